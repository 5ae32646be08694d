(import_spec path: (interpreted_string_literal) @import)
(import_spec name: (package_identifier) @import.alias path: (interpreted_string_literal) @import)
