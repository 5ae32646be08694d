; The wheel's query misses path calls (`module::function()`) and type uses.

(call_expression function: (scoped_identifier name: (identifier) @name.reference.call))
(type_identifier) @name.reference.type
