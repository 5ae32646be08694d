; Scala tags, aider-style (the wheel ships its tags.scm as a file, not as TAGS_QUERY).

(class_definition name: (identifier) @name.definition.class)
(object_definition name: (identifier) @name.definition.class)
(trait_definition name: (identifier) @name.definition.interface)
(enum_definition name: (identifier) @name.definition.enum)
(function_definition name: (identifier) @name.definition.function)
(function_declaration name: (identifier) @name.definition.function)
(type_definition name: (type_identifier) @name.definition.type)
(template_body (val_definition pattern: (identifier) @name.definition.property))
(compilation_unit (val_definition pattern: (identifier) @name.definition.constant))

(call_expression function: (identifier) @name.reference.call)
(call_expression function: (field_expression field: (identifier) @name.reference.call))
(instance_expression (type_identifier) @name.reference.class)
(extends_clause type: (type_identifier) @name.reference.class)
