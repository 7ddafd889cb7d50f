"""The hall's figures written out for people: the monthly report as an Excel workbook and as
CSV files (`hallq report`, and the download the API offers), from a StatsReport."""
