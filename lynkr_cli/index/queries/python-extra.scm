; The wheel's query misses functions written as lambdas bound to a name.

(assignment left: (identifier) @name.definition.function right: (lambda))
