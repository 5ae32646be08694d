; Our own tags query for Bash: tree-sitter-bash ships no TAGS_QUERY.

(function_definition name: (word) @name.definition.function)
(command name: (command_name (word) @name.reference.call))
