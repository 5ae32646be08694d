; Swift tags, aider-style. class_declaration covers class, struct, enum and actor; an
; extension (its name a user_type) adds to a type defined elsewhere, so it defines nothing.

(class_declaration name: (type_identifier) @name.definition.class)
(protocol_declaration name: (type_identifier) @name.definition.interface)
(function_declaration name: (simple_identifier) @name.definition.function)
(protocol_function_declaration name: (simple_identifier) @name.definition.function)
(class_body
  (property_declaration name: (pattern bound_identifier: (simple_identifier) @name.definition.property)))
(source_file
  (property_declaration name: (pattern bound_identifier: (simple_identifier) @name.definition.constant)))

(call_expression (simple_identifier) @name.reference.call)
(call_expression
  (navigation_expression suffix: (navigation_suffix suffix: (simple_identifier) @name.reference.call)))
(inheritance_specifier inherits_from: (user_type (type_identifier) @name.reference.class))
