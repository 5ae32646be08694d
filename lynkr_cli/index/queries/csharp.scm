; Our own tags query for C#: tree-sitter-c-sharp ships no TAGS_QUERY.

(class_declaration name: (identifier) @name.definition.class)
(struct_declaration name: (identifier) @name.definition.struct)
(record_declaration name: (identifier) @name.definition.class)
(interface_declaration name: (identifier) @name.definition.interface)
(enum_declaration name: (identifier) @name.definition.enum)
(delegate_declaration name: (identifier) @name.definition.type)
(method_declaration name: (identifier) @name.definition.method)
(constructor_declaration name: (identifier) @name.definition.constructor)
(property_declaration name: (identifier) @name.definition.property)
(namespace_declaration name: (_) @name.definition.module)
(file_scoped_namespace_declaration name: (_) @name.definition.module)

(invocation_expression function: (identifier) @name.reference.call)
(invocation_expression function: (member_access_expression name: (identifier) @name.reference.call))
(object_creation_expression type: (identifier) @name.reference.class)
(base_list (identifier) @name.reference.class)
