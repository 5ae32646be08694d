; References for C++: the wheel's TAGS_QUERY has definitions only.

(call_expression function: (identifier) @name.reference.call)
(call_expression function: (qualified_identifier name: (identifier) @name.reference.call))
(call_expression function: (field_expression field: (field_identifier) @name.reference.call))
(new_expression type: (type_identifier) @name.reference.class)
(base_class_clause (type_identifier) @name.reference.class)
