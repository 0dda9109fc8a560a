"""What the HTTP routes and the command line both do, written once.

Each function takes what it needs (the database, the settings, the import service), checks its
input, does one thing and returns plain data or raises a :class:`~wkmp_ai.errors.WkmpError`
(usually :class:`~wkmp_ai.errors.Refused`); the edges only parse, call and render:

- :mod:`.parameters`: read, update (merge and save) and override the import parameters;
- :mod:`.folders`: resolve a folder or file a request names, inside the root folder;
- :mod:`.analysis`: amplitude analysis of a span of one file, in the import's worker pool;
- :mod:`.imports`: start, cancel and report import sessions;
- :mod:`.history`, :mod:`.service_status`: past imports, and whether the web services answer (the wizard);
- :mod:`.editor`, :mod:`.releases`, :mod:`.assign`, :mod:`.playback`: the segment editor.
"""
