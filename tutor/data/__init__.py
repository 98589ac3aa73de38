"""Datasets for the lessons, with or without the internet.

Lesson code calls the real APIs (``datasets.FashionMNIST(root, download=True)``,
``ImageFolder``); the modules here find or prepare the data those calls need and say
which copy they used. A stand-in never goes into the folder where the real data
belongs. They run inside the lesson's worker and never import textual or rich.

- ``tutor.data.fashion_mnist``: a root where ``datasets.FashionMNIST`` works (lesson 03).
- ``tutor.data.food``: pizza, steak and sushi pictures in class folders (lesson 04).
- ``tutor.data.characters`` and ``tutor.data.digits``: letters and digits drawn on the
  spot (lessons 03 and 06).
- ``tutor.data.pretrained``: which pretrained model lesson 06 uses (EfficientNet-B0's
  ImageNet weights, or the shipped TinyNet), and ``tutor.data.tinynet``: that TinyNet.
"""
