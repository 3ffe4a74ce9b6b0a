"""The ``leadscore`` command line: parse, call one api function, render. No scoring logic here."""
