"""Reports of an inspection for people: a self-contained HTML file (:mod:`epass.report.html`).

:mod:`epass.report.images` decodes the images a chip holds (JPEG, JPEG 2000 as
JP2 or J2K) to PNG under a pixel budget; every front end that shows a face uses it.
"""
