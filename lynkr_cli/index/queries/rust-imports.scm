(mod_item name: (identifier) @import !body)
(use_declaration argument: (_) @import)
