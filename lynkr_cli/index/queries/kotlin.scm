; Kotlin tags (tree-sitter-kotlin has no TAGS_QUERY): aider-style captures.

(class_declaration name: (identifier) @name.definition.class)
(object_declaration name: (identifier) @name.definition.class)
(function_declaration name: (identifier) @name.definition.function)
(type_alias type: (identifier) @name.definition.type)
(class_body (property_declaration (variable_declaration (identifier) @name.definition.property)))
(source_file (property_declaration (variable_declaration (identifier) @name.definition.constant)))

(call_expression (identifier) @name.reference.call)
(call_expression (navigation_expression (_) (identifier) @name.reference.call .))
(delegation_specifier (constructor_invocation (user_type (identifier) @name.reference.class)))
(delegation_specifier (user_type (identifier) @name.reference.class))
