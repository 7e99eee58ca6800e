"""Sphinx configuration of scoresym's documentation site.

Build it with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (see the README).
The tutorials in tutorials/ are stored without outputs and executed during the build
(``SCORESYM_QUICK=1`` makes them small); the test suite builds the site from notebooks it has
already executed, with ``-D nb_execution_mode=off``.
"""

import scoresym

project = "scoresym"
author = "the scoresym developers"
copyright = "2026, the scoresym developers"
release = version = scoresym.__version__

extensions = [
    "myst_nb",                # Markdown pages and the executed tutorial notebooks
    "sphinx.ext.autodoc",     # the API reference, from the docstrings
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinxarg.ext",          # the command-line reference, from the argparse parsers
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

nb_execution_mode = "auto"            # execute a notebook that has no outputs (all of ours)
nb_execution_timeout = 900
nb_execution_raise_on_error = True    # a tutorial that fails is a failed build
nb_execution_show_tb = True
nb_merge_streams = True
nb_render_markdown_format = "myst"  # a Derivation's $$ math and its checks' tables

autodoc_member_order = "bysource"
autodoc_typehints = "none"            # the signatures and docstrings say what each argument is
napoleon_numpy_docstring = True

html_theme = "alabaster"
html_title = f"scoresym {release}"
html_theme_options = {"description": "Exact score-matching mathematics, compiled and checked",
                      "fixed_sidebar": True}
