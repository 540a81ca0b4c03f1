"""The original post's model, data and optimizer, re-typed, for the tests that compare against it."""

import math

import torch


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.d + self.c * x + self.b * x ** 2 + self.a * x ** 3


def post_problem(seed: int = 0):
    """``(x, y, model, criterion, optimizer)`` exactly as the post builds them, after ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    model = Polynomial3()
    return x, y, model, torch.nn.MSELoss(reduction='sum'), torch.optim.SGD(model.parameters(), lr=1e-6)
