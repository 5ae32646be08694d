; Python tags: the wheel's TAGS_QUERY, with each call's receiver captured by the query
; itself (@receiver), so the extractor need not walk up the tree for it.

(class_definition
  name: (identifier) @name) @definition.class

(function_definition
  name: (identifier) @name) @definition.function

(module (expression_statement (assignment left: (identifier) @name) @definition.constant))

(call function: (identifier) @name.reference.call)
(call function: (attribute object: (_) @receiver attribute: (identifier) @name.reference.call))
