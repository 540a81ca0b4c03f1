"""Callbacks that record a framework's training into a polyanim History: thin adapters over the Recorder.

- ``polyanim.integrations.lightning.PolyanimCallback``: PyTorch Lightning (``pip install polyanim[lightning]``);
- ``polyanim.integrations.keras.PolyanimCallback``: Keras 3 on the torch backend (``polyanim[keras]``);
- ``polyanim.integrations.hf.PolyanimCallback``: Hugging Face transformers' ``Trainer`` (``polyanim[hf]``).

Each framework is imported by its own module only, never by ``import polyanim``.
"""
