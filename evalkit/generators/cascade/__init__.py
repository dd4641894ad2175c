"""Cascaded generators: Imagen-style (imagen.py) and DeepFloyd IF (deepfloyd_if.py) over one stage skeleton."""
