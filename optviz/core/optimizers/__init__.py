"""Optimizers: optviz's own as pure (init, step) pairs bit-equal to torch.optim, their
drop-in torch.optim classes, any torch optimizer by name, and learning-rate schedules."""
