"""Service functions shared by the HTTP routes and the command line: one module per topic."""
