"""Question bank, blueprint (鉴定要素细目表), capacity check, paper assembly and compliance (issue #7).

Pure: numpy, highspy and the standard library; no Flask, no database, no clock, no global random state.
"""
