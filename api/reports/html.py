"""The impact report as one self-contained HTML file: inline CSS, inline SVG chart, sortable tables.

No network access: no external stylesheet, script, font or image.  The chart shows edits per
category before (OLD) and after (NEW); the tables sort when a header is clicked (a few lines of
inline JavaScript, which marks each table ``data-sortable="ready"`` and the body
``data-sort-ready="true"`` once it has run).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from api.reports.impact import Counts, ImpactReport

__all__ = ["impact_html"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f3f3;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.summary span{display:inline-block;margin-right:1.5rem}
.legend rect{stroke:none}
"""

_JS = """
(function(){
  function cell(row,i){var c=row.cells[i];return c?c.getAttribute('data-value')||c.textContent:'';}
  function sortTable(table,i,th){
    var asc=th.getAttribute('aria-sort')!=='ascending';
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h){h.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',asc?'ascending':'descending');
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    var num=th.getAttribute('data-type')==='number';
    rows.sort(function(a,b){
      var x=cell(a,i),y=cell(b,i),r=num?(parseFloat(x)-parseFloat(y)):x.localeCompare(y);
      return asc?r:-r;
    });
    rows.forEach(function(r){body.appendChild(r);});
    table.setAttribute('data-sorted-by',String(i));
  }
  var tables=document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables,function(table){
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
      th.addEventListener('click',function(){sortTable(table,i,th);});
    });
    table.setAttribute('data-sortable','ready');
  });
  document.body.setAttribute('data-sort-ready','true');
})();
"""

_COLS = ("before", "after", "added", "removed", "changed")


def _chart(report: ImpactReport) -> str:
    cats = sorted(report.categories.items())
    peak = max([1, *(max(c.before, c.after) for _, c in cats)])
    bar_h, gap, label_w, plot_w = 12, 10, 170, 420
    height = 56 + len(cats) * (2 * bar_h + gap)
    parts = [
        '<svg id="category-chart" xmlns="http://www.w3.org/2000/svg"'
        f' width="{label_w + plot_w + 60}"'
        f' height="{height}" role="img" aria-label="Edits per category before and after">',
        '<g class="legend"><rect x="0" y="4" width="12" height="12" fill="#9aa7b8"/>'
        f'<text x="16" y="14" font-size="12">before ({escape(report.old)})</text>'
        '<rect x="0" y="22" width="12" height="12" fill="#2f6db5"/>'
        f'<text x="16" y="32" font-size="12">after ({escape(report.new)})</text></g>',
    ]
    y = 46
    for name, c in cats:
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h + 4}" font-size="12" text-anchor="end">'
            f"{escape(name)}</text>"
        )
        for value, color, cls, dy in (
            (c.before, "#9aa7b8", "bar-before", 0),
            (c.after, "#2f6db5", "bar-after", bar_h),
        ):
            w = round(plot_w * value / peak, 1)
            parts.append(
                f'<rect class="{cls}" data-category="{escape(name)}" data-value="{value}"'
                f' x="{label_w}" y="{y + dy}" width="{w}" height="{bar_h - 1}" fill="{color}">'
                f"<title>{escape(name)}: {value}</title></rect>"
                f'<text x="{label_w + w + 4}" y="{y + dy + bar_h - 2}" font-size="10">'
                f"{value}</text>"
            )
        y += 2 * bar_h + gap
    parts.append("</svg>")
    return "".join(parts)


def _num_cells(c: Counts) -> str:
    return "".join(
        f'<td class="n" data-value="{getattr(c, k)}">{getattr(c, k)}</td>' for k in _COLS
    )


def _head(names: Sequence[str], numeric: Sequence[str]) -> str:
    cells = "".join(
        f'<th data-type="{"number" if n in numeric else "text"}">{escape(n)}</th>' for n in names
    )
    return f"<thead><tr>{cells}</tr></thead>"


def _examples(c: Counts) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in c.examples.items() if v)


def impact_html(report: ImpactReport) -> str:
    """The whole HTML document."""
    cat_rows = "".join(
        f"<tr><td>{escape(k)}</td>{_num_cells(c)}</tr>"
        for k, c in sorted(report.categories.items())
    )
    rule_rows = "".join(
        f"<tr><td>{escape(r)}</td><td>{escape(report.rule_categories.get(r, ''))}</td>"
        f"{_num_cells(c)}<td>{escape(_examples(c))}</td></tr>"
        for r, c in sorted(report.rules.items())
    )
    t = report.total
    title = f"Impact of {report.new} over {report.old}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="summary"><span>claims: <b>{report.claims}</b></span>'
        f'<span>edits before: <b id="total-before">{t.before}</b></span>'
        f'<span>after: <b id="total-after">{t.after}</b></span>'
        f'<span>added: <b id="total-added">{t.added}</b></span>'
        f'<span>removed: <b id="total-removed">{t.removed}</b></span>'
        f'<span>changed: <b id="total-changed">{t.changed}</b></span></p>'
        f"<h2>Edits per category</h2>{_chart(report)}"
        '<h2>By category</h2><table id="categories" class="sortable">'
        f"{_head(('category', *_COLS), _COLS)}<tbody>{cat_rows}</tbody></table>"
        '<h2>By rule</h2><table id="rules" class="sortable">'
        f"{_head(('rule', 'category', *_COLS, 'example claims'), _COLS)}"
        f"<tbody>{rule_rows}</tbody></table>"
        "<p>Example claims are control numbers; the report holds no patient data.</p>"
        f"<script>{_JS}</script></body></html>\n"
    )
