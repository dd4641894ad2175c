"""Reports: HTML and Markdown renderings of runs."""
