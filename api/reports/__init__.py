"""Report builders of the CI commands: JUnit XML, rule coverage, snapshots, impact (text/JSON/HTML).

Pure functions from results to text, so the CLI, the store's publish gate and the tests share them.
"""
