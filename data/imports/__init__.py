"""Imports: the workbook contract (spec), reading, one checker per sheet, the write, the template
and the unit import batches awaiting the office's verification."""
