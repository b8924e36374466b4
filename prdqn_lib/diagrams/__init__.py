"""Figures of the series' notebooks: drawings, not data.

Each notebook draws its diagrams with one call into a module here, so an exported notebook
(nbconvert's HTML, the book site) shows the picture, not thirty lines of plotting code.
"""
