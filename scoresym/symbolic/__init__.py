"""Pure SymPy, nothing numeric: safe parsing of user strings, the score-matching operators, edge
limits (boundary terms), test-function fields, closed-form estimators and display notation.

Invariant: nothing here evaluates a function on arrays; everything takes and returns SymPy
objects (closed forms are evaluated at sample moments, a handful of numbers)."""
