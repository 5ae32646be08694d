; The wheel's query misses unqualified calls, which the grammar parses as a bare (name).

(function_call_expression function: (name) @name.reference.call)
(object_creation_expression (name) @name.reference.class)
