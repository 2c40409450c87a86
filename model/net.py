"""The networks, picked by name from :data:`ARCHITECTURES` (the spec's ``arch``).

Every builder takes the spec and returns a Keras model whose outputs are a dict with at
least ``embedding`` ((N, D) unit vectors). ``plate_encoder`` adds ``logits`` ((N, T, K+1),
a CTC reading head over the same trunk, blank at index 0); ``seed_autoencoder`` adds
``reconstruction`` ((N, H, W, 1), the predicted synthetic render).

TensorFlow is imported lazily through model._tf (see its docstring for why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from model._tf import keras
from model.spec import ModelSpec, SpecError

Builder = Callable[[ModelSpec], Any]


def _conv(x: Any, filters: int, name: str) -> Any:
    layers = keras().layers
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def plate_encoder(spec: ModelSpec) -> Any:
    """A small conv trunk that keeps the plate's left-to-right layout to the end.

    arch_options: ``stages`` — list of [filters, pool_h, pool_w] (one 3x3 conv each, then
    max-pooling when the pool is not 1x1); ``head_channels`` — 1x1 squeeze before the
    flatten of the embedding head; ``reading_units`` — width of the reading head.
    The embedding is Flatten → Dense(D) → unit norm: flattening, not global pooling, keeps
    where each character sits, which is what tells ``AB12`` from ``BA21``.
    """
    k = keras()
    layers = k.layers
    opts = spec.arch_options
    stages = opts.get("stages", [[16, 2, 2], [32, 2, 2], [64, 1, 1], [64, 2, 1], [96, 1, 1]])
    inputs = k.Input((spec.height, spec.width, spec.channels), name="image")
    x = inputs
    for i, (filters, ph, pw) in enumerate(stages):
        x = _conv(x, int(filters), f"s{i}")
        if (ph, pw) != (1, 1):
            x = layers.MaxPooling2D((ph, pw), name=f"s{i}_pool")(x)
    trunk_h, trunk_w, trunk_c = (int(d) for d in x.shape[1:])

    e = layers.Conv2D(int(opts.get("head_channels", 16)), 1, name="emb_squeeze")(x)
    e = layers.Flatten(name="emb_flatten")(e)
    e = layers.Dense(spec.embedding_dim, name="emb_dense")(e)
    embedding = layers.UnitNormalization(axis=-1, name="embedding")(e)
    outputs = {"embedding": embedding}

    if spec.has_reading:
        r = layers.Permute((2, 1, 3), name="read_columns")(x)
        r = layers.Reshape((trunk_w, trunk_h * trunk_c), name="read_flatten")(r)
        r = layers.Dense(int(opts.get("reading_units", 128)), activation="relu", name="read_fc")(r)
        outputs["logits"] = layers.Dense(len(spec.alphabet) + 1, name="logits")(r)
    return k.Model(inputs, outputs, name=spec.arch)


def seed_autoencoder(spec: ModelSpec) -> Any:
    """The seed's convolutional autoencoder, scaled down (see MODEL_CARD.md).

    arch_options: ``filters`` — encoder widths, each a 3x3 conv + 2x2 max-pool (the decoder
    mirrors them with up-sampling). The embedding is the flattened encoder output.
    """
    k = keras()
    layers = k.layers
    filters = [int(f) for f in spec.arch_options.get("filters", [32, 16, 8])]
    inputs = k.Input((spec.height, spec.width, spec.channels), name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"enc{i}")(x)
        x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
    code_size = int(np.prod(x.shape[1:]))
    if code_size != spec.embedding_dim:
        raise SpecError(
            f"seed_autoencoder's code has {code_size} values for this input size and filters; "
            f"set embedding_dim to {code_size}"
        )
    embedding = layers.UnitNormalization(axis=-1, name="embedding")(layers.Flatten()(x))
    for i, f in enumerate(reversed(filters)):
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"dec{i}")(x)
        x = layers.UpSampling2D(2, name=f"dec{i}_up")(x)
    recon = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="reconstruction")(x)
    return k.Model(inputs, {"embedding": embedding, "reconstruction": recon}, name=spec.arch)


#: Registry of architectures by the name a spec gives in ``arch``.
ARCHITECTURES: dict[str, Builder] = {
    "plate_encoder": plate_encoder,
    "seed_autoencoder": seed_autoencoder,
}


def build(spec: ModelSpec) -> Any:
    """The Keras model a spec describes; raises SpecError for an unknown ``arch``."""
    try:
        builder = ARCHITECTURES[spec.arch]
    except KeyError:
        raise SpecError(
            f"unknown architecture {spec.arch!r}; known: {sorted(ARCHITECTURES)}"
        ) from None
    return builder(spec)
