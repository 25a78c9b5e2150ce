"""The second floor: many runs and real models. Studies over grids of hyperparameters and
starts, comparisons side by side (the course notes' six), penalties, the principal plane,
conformance with torch.optim, and models' training, experiments and loss landscapes."""
