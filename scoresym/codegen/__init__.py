"""SymPy expressions compiled into vectorized functions: the printer, the backends (numpy,
autograd), the compiled functions and the fast path for linear-form models."""
