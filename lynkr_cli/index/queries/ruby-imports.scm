(call
  method: (identifier) @_m
  arguments: (argument_list . (string (string_content) @import))
  (#any-of? @_m "require" "require_relative"))
