"""Containers: `Sequential` (modules applied in order) and `ModuleList` (a list whose
modules are registered, so their parameters are found and saved).

Children are named "0", "1", ... as in PyTorch, so state_dict keys read "0.weight".
"""

from collections import OrderedDict

from ..module import Module


class Sequential(Module):
    """Sequential(m0, m1, ...) computes m_n(...m1(m0(x))).  Also Sequential(OrderedDict
    of name -> module).  Indexable (`seq[0]`, `seq[-1]`, `seq[1:]`), len(), iterable."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def _index(self, index):
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for {type(self).__name__} of {size}")
        return index % size

    def __getitem__(self, index):
        if isinstance(index, slice):
            # keeps the original names, as PyTorch does: seq[1:] holds "1", "2", ...
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[self._index(index)]

    def __setitem__(self, index, module):
        key = list(self._modules)[self._index(index)]
        setattr(self, key, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(Module):
    """A list of modules (any Python list operations you need are below).  Use it
    instead of a plain list: a plain list's modules are invisible to parameters(),
    to(), train() and state_dict().  It has no forward; loop over it in yours."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, index):
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for ModuleList of {size}")
        return index % size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(self._index(index))]

    def __setitem__(self, index, module):
        setattr(self, str(self._index(index)), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert before `index`; later modules are renamed "i+1", ... to keep the order."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        for key in list(self._modules):
            delattr(self, key)
        self.extend(modules)
