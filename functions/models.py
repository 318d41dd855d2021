"""The networks of Figure 2e-f: a multilayer perceptron (MNIST) and a small CNN (CIFAR-10)."""

from __future__ import annotations

from torch import nn

from ._checks import check_choice

__all__ = ["MLP", "MODELS", "SmallCNN", "build_model"]


class MLP(nn.Sequential):
    """784-512-256-10 ReLU perceptron on flattened 28x28 images (the paper's Figure 2e)."""

    def __init__(self, in_features: int = 784, hidden=(512, 256), n_classes: int = 10):
        layers, width = [nn.Flatten()], in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_classes))
        super().__init__(*layers)


class SmallCNN(nn.Sequential):
    """conv(3->64)-conv(64->64)-pool-conv(64->128)-conv(128->128)-pool-fc(8192->256)-fc(256->10) (paper, Fig. 2f).

    3x3 convolutions with padding 1 and ReLU after each convolution and the hidden linear layer.
    """

    def __init__(self, in_channels: int = 3, n_classes: int = 10, image_size: int = 32):
        def conv(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]

        flat = 128 * (image_size // 4) ** 2
        super().__init__(
            *conv(in_channels, 64),
            *conv(64, 64),
            nn.MaxPool2d(2),
            *conv(64, 128),
            *conv(128, 128),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(flat, 256),
            nn.ReLU(),
            nn.Linear(256, n_classes),
        )


def build_model(name: str, **kwargs) -> nn.Module:
    """'mlp' or 'cnn'."""
    return MODELS[check_choice(name, "model", MODELS)](**kwargs)


#: The networks by protocol name.
MODELS = {"mlp": MLP, "cnn": SmallCNN}
