(command
  name: (command_name (word) @_cmd)
  argument: (word) @import
  (#any-of? @_cmd "source" "."))
