"""Privacy by design (issue 13): what walkapp forgets on its own and what it answers a data subject.

- ``anonymise``: the shared steps: an account made anonymous, Open311 contact fields removed.
- ``retention``: the retention plan (gallring) from config, applied by ``walkapp retention``.
- ``subject_rights``: a register extract (GDPR art. 15) and erasure (art. 17) for one e-mail address.
- ``audit``: the log of exports, erasures and retention runs, naming people only by a keyed hash.
"""
