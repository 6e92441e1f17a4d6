"""A process SIGKILLed in the middle of publish leaves the previous version active.

The in-process "power cut" test raises an exception; this one kills a real process after the
active flags were flipped and flushed (inside the open transaction), so nothing of Python's clean-up
runs: the database alone must roll the transaction back.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from store.models import PackVersion
from store.service import active_version, create_draft, get_draft, import_pack, publish, set_file
from store.validation import ValidationReport
from tests.store.conftest import ALICE, RULE_TWO

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import store.service as service
    from store.db import make_engine, make_sessionmaker
    from store.service import Actor, publish
    from store.validation import ValidationReport

    real_audit = service._audit

    def die(*args, **kwargs):
        if args[2] == "publish":  # the flags are flipped and flushed, the transaction is open
            os.kill(os.getpid(), signal.SIGKILL)
        real_audit(*args, **kwargs)

    service._audit = die
    factory = make_sessionmaker(make_engine(sys.argv[1]))
    with factory.begin() as s:
        publish(s, "demo", by=Actor("bob"), note="v2", validate=lambda c: ValidationReport())
    print("not killed")
    """
)


def test_sigkill_mid_publish_keeps_previous_version(
    factory: sessionmaker[Session], database_url: str, pack_dir: object
) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)  # type: ignore[arg-type]
        publish(s, "demo", by=ALICE, note="v1", validate=lambda c: ValidationReport())
        create_draft(s, "demo", by=ALICE)
        set_file(s, "demo", "rules/extra.rules", RULE_TWO, by=ALICE, compiler=None)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, database_url], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    with factory() as s:
        assert active_version(s, "demo").version == "1.0"
        draft = get_draft(s, "demo")
        assert draft is not None and draft.published_at is None
        assert s.scalar(select(func.count()).where(PackVersion.is_active)) == 1
    with factory.begin() as s:  # the store is usable: the same publish now succeeds
        assert publish(s, "demo", by=ALICE, note="v2", validate=lambda c: ValidationReport())
    with factory() as s:
        assert active_version(s, "demo").version == "1.1"
