"""Real models: training, the course notes' experiments, weights as vectors, evaluation on
many sets of weights, and loss landscapes."""
