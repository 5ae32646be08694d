; One match per imported name: @import is the module, @import.name what is taken from it,
; @import.alias the local name it is bound to (the extractor joins the matches of one
; statement into one import row).
(import_statement name: (dotted_name) @import)
(import_statement name: (aliased_import name: (dotted_name) @import alias: (identifier) @import.alias))
(import_from_statement module_name: (_) @import name: (dotted_name) @import.name)
(import_from_statement
  module_name: (_) @import
  name: (aliased_import name: (dotted_name) @import.name alias: (identifier) @import.alias))
(import_from_statement module_name: (_) @import (wildcard_import) @import.star)
