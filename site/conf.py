"""Sphinx configuration of the prdqn book site (built by ``python scripts/build_site.py``).

Why Sphinx + myst-nb (and not Jupyter Book 2 / mystmd): the site must build and read with no
network but the package registries. mystmd 1.8 fetches its HTML theme from api.mystmd.org at
build time (``myst build --html`` stops with ``getaddrinfo ENOTFOUND api.mystmd.org`` here),
whereas Sphinx, myst-nb and sphinx-book-theme install from PyPI with every asset inside the
wheels: the theme's CSS, JS and icon fonts, Sphinx's client-side search (``searchindex.js``),
and MathJax 3 from ``sphinx-mathjax-offline``, copied into ``_static/mathjax``. myst-nb renders
the committed outputs as they are (``nb_execution_mode = "off"``): PNG figures, the GIFs (HTML
``<img>`` data URIs), tables and stdout; nothing is executed.

The build script stages the sources in ``build/site_src`` (see its docstring) and points
``sphinx-build -c site`` at this file.
"""

project = "prdqn: Prioritized Experience Replay for DQN"
author = "the prdqn authors"
copyright = "the prdqn authors"

extensions = [
    "myst_nb",  # .ipynb and .md through MyST; registers myst_parser itself
    "sphinx-mathjax-offline",  # (sic, hyphens) MathJax 3 served from _static/mathjax, no CDN
]

root_doc = "index"
exclude_patterns = ["README.md", "_build", "**.ipynb_checkpoints"]

# Notebooks: never execute, render the committed outputs.
nb_execution_mode = "off"
nb_merge_streams = True  # one stdout block per cell, as JupyterLab shows it
nb_output_stderr = "show"
nb_code_prompt_show = "Show {type}"
nb_code_prompt_hide = "Hide {type}"

# MyST: $…$ / $$…$$ maths, \begin{align} blocks, <img> tags in markdown, ::: fences.
myst_enable_extensions = ["dollarmath", "amsmath", "html_image", "colon_fence"]
myst_heading_anchors = 3  # README's section links (#…) get anchors
myst_dmath_double_inline = True

html_theme = "sphinx_book_theme"
html_title = "prdqn · PER for DQN"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,  # the .ipynb / .md of each page, served from the site itself
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
}
html_last_updated_fmt = None
html_copy_source = True
html_show_sourcelink = False
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"  # else browsers ask for /favicon.ico and log a 404
# Light by default: the figures are drawn on white; the theme button still switches. (Without a
# default, pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first visit.)
html_context = {"default_mode": "light"}


def _search_page_maths(app, pagename, templatename, context, doctree):
    """search.html: typeset the maths that the result summaries quote (see the JS file)."""
    if pagename == "search":
        app.add_js_file("mathjax/tex-chtml.js", loading_method="defer")  # the local MathJax
        app.add_js_file("search_maths.js", loading_method="defer")  # after searchtools.js


def setup(app):
    app.connect("html-page-context", _search_page_maths)
