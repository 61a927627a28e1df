"""matplotlib backend of the site's Python worker: draw with Agg, ``plt.show()`` posts PNGs.

Selected with ``MPLBACKEND=module://wasmdl_site_mpl`` (set by ``wasmdl_site``). A worker has no
DOM, so matplotlib-pyodide's HTML backends cannot run there.
"""

from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas  # noqa: F401


def show(*args, **kwargs) -> None:
    """Send the open figures to the page as images (and close them)."""
    import wasmdl_site

    wasmdl_site.show_figures()
