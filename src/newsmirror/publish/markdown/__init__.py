"""The duty-machine/news markdown archive: article files, lists and README in
every layout and dialect the script family wrote, read (import) and written (publish)."""
