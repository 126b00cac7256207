"""The training-loop rewrite: backward/step -> value_and_grad + optimizer(grads), and the
no_grad/enable_grad regions around it."""
