"""The hall's figures: each day summarised from its tickets' journeys (rollup.py) into
`day_figure` rows (models.py), kept by the day's sweep and rebuildable at any time."""
