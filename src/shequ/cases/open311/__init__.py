"""Open311 GeoReport v2 at /open311/v2/ (http://wiki.open311.org/GeoReport_v2).

A small app of its own (label ``open311``): API clients and their keys, the per-category
service attributes and the Open311 side of each request taken in this way. Cases are created
through ``shequ.cases.services.create_case(..., channel="open311")`` like any other intake.
"""
