"""Gradients of a network's output with respect to its input, inside a loss that is
differentiated again (WGAN-GP, WGAN-div, DRAGAN, StarGAN): `torch.autograd.grad(...,
create_graph=True)` -> `mindspore.vjp` of the statement that computed the output.
Each program is converted, run in torch and in MindSpore from the same weights and
inputs, and the penalties, losses and trained weights compared."""
import importlib.util
import os
import sys
import tempfile
import textwrap
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402


def convert(source: str):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    program = types.ModuleType("input_grads_prog")
    sys.modules[program.__name__] = program
    exec(compile(source, "<torch>", "exec"), program.__dict__)
    # a file: MindSpore reads the source of a function given a Cell argument
    folder = tempfile.mkdtemp()
    name = f"input_grads_prog_ms{len(sys.modules)}"
    path = os.path.join(folder, name + ".py")
    with open(path, "w") as f:
        f.write(result.code)
    spec = importlib.util.spec_from_file_location(name, path)
    converted = importlib.util.module_from_spec(spec)
    sys.modules[name] = converted
    spec.loader.exec_module(converted)
    return result, program.__dict__, converted.__dict__


def ms(a):
    return mindspore.Tensor(np.asarray(a, dtype=np.float32))


def weights(tm, mm):
    """torch's state dict and the Cell's parameters, in the same order."""
    t = [p.detach().numpy() for p in tm.parameters()]
    m = [p.asnumpy() for p in mm.trainable_params()]
    assert [a.shape for a in t] == [b.shape for b in m]
    return t, m


WGAN_GP = """\
    import torch
    import torch.nn as nn
    import torch.autograd as autograd
    from torch.autograd import Variable

    class Discriminator(nn.Module):
        def __init__(self):
            super(Discriminator, self).__init__()
            self.model = nn.Sequential(
                nn.Linear(12, 16),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(16, 8),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(8, 1),
            )

        def forward(self, img):
            img_flat = img.view(img.shape[0], -1)
            return self.model(img_flat)

    def compute_gradient_penalty(D, real_samples, fake_samples, alpha):
        \"\"\"Calculates the gradient penalty loss for WGAN GP\"\"\"
        interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
        d_interpolates = D(interpolates)
        fake = Variable(torch.ones(real_samples.size(0), 1), requires_grad=False)
        # Get gradient w.r.t. interpolates
        gradients = autograd.grad(
            outputs=d_interpolates,
            inputs=interpolates,
            grad_outputs=fake,
            create_graph=True,
            retain_graph=True,
            only_inputs=True,
        )[0]
        gradients = gradients.view(gradients.size(0), -1)
        gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
        return gradient_penalty

    def train(discriminator, batches, lambda_gp=10.0):
        optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=0.01, betas=(0.5, 0.9))
        losses = []
        for real_imgs, fake_imgs, alpha in batches:
            optimizer_D.zero_grad()
            real_validity = discriminator(real_imgs)
            fake_validity = discriminator(fake_imgs)
            gradient_penalty = compute_gradient_penalty(discriminator, real_imgs.data,
                                                        fake_imgs.data, alpha)
            d_loss = -torch.mean(real_validity) + torch.mean(fake_validity) + lambda_gp * gradient_penalty
            d_loss.backward()
            optimizer_D.step()
            losses.append((d_loss.item(), gradient_penalty.item()))
        return losses

    class Generator(nn.Module):
        def __init__(self):
            super(Generator, self).__init__()
            self.model = nn.Sequential(nn.Linear(4, 12), nn.Tanh())

        def forward(self, z):
            return self.model(z).view(z.shape[0], 3, 4)

    Tensor = torch.cuda.FloatTensor if torch.cuda.is_available() else torch.FloatTensor

    def train_both(generator, discriminator, batches, lambda_gp=10.0, n_critic=2):
        optimizer_G = torch.optim.Adam(generator.parameters(), lr=0.01, betas=(0.5, 0.9))
        optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=0.01, betas=(0.5, 0.9))
        losses = []
        for i, (imgs, noise, alpha) in enumerate(batches):
            real_imgs = Variable(imgs.type(Tensor))
            optimizer_D.zero_grad()
            z = Variable(Tensor(noise))
            fake_imgs = generator(z)
            real_validity = discriminator(real_imgs)
            fake_validity = discriminator(fake_imgs)
            gradient_penalty = compute_gradient_penalty(discriminator, real_imgs.data,
                                                        fake_imgs.data, alpha)
            d_loss = -torch.mean(real_validity) + torch.mean(fake_validity) + lambda_gp * gradient_penalty
            d_loss.backward()
            optimizer_D.step()
            optimizer_G.zero_grad()
            if i % n_critic == 0:
                fake_imgs = generator(z)
                fake_validity = discriminator(fake_imgs)
                g_loss = -torch.mean(fake_validity)
                g_loss.backward()
                optimizer_G.step()
                losses.append((d_loss.item(), g_loss.item()))
        return losses
    """


def _batches(rng, steps, shape):
    return [(rng.standard_normal(shape), rng.standard_normal(shape) * 0.5 + 1.0,
             rng.random((shape[0],) + (1,) * (len(shape) - 1))) for _ in range(steps)]


def test_wgan_gp_penalty_trains_like_torch():
    result, t, m = convert(WGAN_GP)
    code = result.code
    assert "d_interpolates, d_interpolates_vjp = mindspore.vjp(D, interpolates)" in code
    assert "gradients = d_interpolates_vjp(fake)[0]" in code
    lines = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("#"))
    assert "requires_grad" not in lines and "autograd" not in lines and "torch" not in lines
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    torch.manual_seed(0)
    tm, mm = t["Discriminator"](), m["Discriminator"]()
    copy_torch_weights(tm, mm)
    batches = _batches(np.random.default_rng(1), 4, (5, 3, 4))
    # the penalty alone, before training
    real, fake, alpha = batches[0]
    expected = t["compute_gradient_penalty"](tm, torch.tensor(real, dtype=torch.float32),
                                              torch.tensor(fake, dtype=torch.float32),
                                              torch.tensor(alpha, dtype=torch.float32))
    got = m["compute_gradient_penalty"](mm, ms(real), ms(fake), ms(alpha))
    np.testing.assert_allclose(float(got), expected.item(), rtol=1e-5)
    # four steps of Adam on the loss that holds it: second-order gradients
    t_losses = t["train"](tm, [tuple(torch.tensor(a, dtype=torch.float32) for a in b)
                               for b in batches])
    m_losses = m["train"](mm, [tuple(ms(a) for a in b) for b in batches])
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4, atol=1e-5)
    for a, b in zip(*weights(tm, mm)):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


WGAN_DIV = """\
    import torch
    import torch.nn as nn
    from torch import autograd
    from torch.autograd import Variable

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(
                nn.Conv2d(2, 4, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(4, 8, 3, 2, 1), nn.BatchNorm2d(8, 0.8), nn.LeakyReLU(0.2, inplace=True),
            )
            self.adv_layer = nn.Sequential(nn.Linear(8 * 2 * 2, 1), nn.Sigmoid())

        def forward(self, img):
            out = self.model(img)
            return self.adv_layer(out.view(out.shape[0], -1))

    def train(discriminator, batches, k=2, p=6):
        optimizer_D = torch.optim.SGD(discriminator.parameters(), lr=0.1)
        losses = []
        for imgs, fakes in batches:
            real_imgs = Variable(imgs, requires_grad=True)
            fake_imgs = (fakes * 1.0).requires_grad_()
            optimizer_D.zero_grad()
            real_validity = discriminator(real_imgs)
            fake_validity = discriminator(fake_imgs)

            real_grad_out = torch.ones(real_imgs.size(0), 1)
            real_grad = autograd.grad(
                real_validity, real_imgs, real_grad_out, create_graph=True, retain_graph=True, only_inputs=True
            )[0]
            real_grad_norm = real_grad.view(real_grad.size(0), -1).pow(2).sum(1) ** (p / 2)

            fake_grad_out = torch.ones(fake_imgs.size(0), 1)
            fake_grad = autograd.grad(
                fake_validity, fake_imgs, fake_grad_out, create_graph=True, retain_graph=True, only_inputs=True
            )[0]
            fake_grad_norm = fake_grad.view(fake_grad.size(0), -1).pow(2).sum(1) ** (p / 2)

            div_gp = torch.mean(real_grad_norm + fake_grad_norm) * k / 2
            d_loss = -torch.mean(real_validity) + torch.mean(fake_validity) + div_gp
            d_loss.backward()
            optimizer_D.step()
            losses.append((d_loss.item(), div_gp.item()))
        return losses
    """


def test_wgan_div_conv_batchnorm_two_penalties_in_the_step():
    result, t, m = convert(WGAN_DIV)
    code = result.code
    assert "real_validity, real_validity_vjp = mindspore.vjp(discriminator, real_imgs)" in code
    assert "fake_grad = fake_validity_vjp(fake_grad_out)[0]" in code
    # the first vjp is called before the second is made (MindSpore: last made, first called)
    assert code.index("real_grad = real_validity_vjp") < code.index("fake_validity, fake_validity_vjp")
    assert "Parameter" not in code and "torch" not in code
    assert "fake_imgs = fakes * 1.0" in code
    torch.manual_seed(0)
    tm, mm = t["Discriminator"](), m["Discriminator"]()
    mm.set_train()  # batch statistics, as torch's module in training mode
    copy_torch_weights(tm, mm)
    rng = np.random.default_rng(2)
    batches = [(rng.standard_normal((4, 2, 8, 8)), rng.standard_normal((4, 2, 8, 8)))
               for _ in range(3)]
    t_losses = t["train"](tm, [tuple(torch.tensor(a, dtype=torch.float32) for a in b)
                               for b in batches])
    m_losses = m["train"](mm, [tuple(ms(a) for a in b) for b in batches])
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-3, atol=1e-6)
    for a, b in zip(*weights(tm, mm)):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-5)


STARGAN = """\
    import torch
    import torch.nn as nn
    import torch.autograd as autograd

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(nn.Conv2d(3, 4, 4, stride=2, padding=1), nn.LeakyReLU(0.01))
            self.out1 = nn.Conv2d(4, 1, 3, padding=1, bias=False)
            self.out2 = nn.Conv2d(4, 2, 4, bias=False)

        def forward(self, img):
            h = self.main(img)
            return self.out1(h), self.out2(h).view(h.size(0), -1)

    def penalty(D, real_samples, fake_samples, alpha, detached):
        interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
        if detached:
            return detached_penalty(D, interpolates)
        d_interpolates, _ = D(interpolates)
        gradients = autograd.grad(outputs=d_interpolates, inputs=interpolates,
                                  grad_outputs=torch.ones(d_interpolates.shape) * 0.5,
                                  create_graph=True)[0]
        again = autograd.grad(d_interpolates, interpolates, torch.ones_like(d_interpolates),
                              create_graph=True)[0]
        return ((gradients.view(gradients.size(0), -1).norm(2, dim=1) - 1) ** 2).mean() + again.mean()

    def detached_penalty(D, x):
        out, _ = D(x)
        gradients = autograd.grad(out, x, torch.ones_like(out))[0]
        return ((gradients.view(gradients.size(0), -1).norm(2, dim=1) - 1) ** 2).mean()

    def step(D, real, fake, alpha, detached):
        opt = torch.optim.SGD(D.parameters(), lr=0.05)
        opt.zero_grad()
        out_src, out_cls = D(real)
        loss = -torch.mean(out_src) + out_cls.pow(2).mean() + 10 * penalty(D, real, fake, alpha, detached)
        loss.backward()
        opt.step()
        return loss.item()
    """


@pytest.mark.parametrize("detached", [False, True])
def test_tuple_output_and_detached_gradients(detached):
    result, t, m = convert(STARGAN)
    code = result.code
    assert "d_interpolates, d_interpolates_vjp, _ = mindspore.vjp(D, interpolates, has_aux=True)" in code
    assert "again = d_interpolates_vjp(ops.ones_like(d_interpolates))[0]" in code
    assert "gradients = ops.stop_gradient(out_vjp(ops.ones_like(out)))[0]" in code
    assert "torch" not in code
    torch.manual_seed(0)
    tm, mm = t["Discriminator"](), m["Discriminator"]()
    copy_torch_weights(tm, mm)
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((3, 3, 8, 8)), rng.standard_normal((3, 3, 8, 8))
    alpha = rng.random((3, 1, 1, 1))
    tt = [torch.tensor(a, dtype=torch.float32) for a in (real, fake, alpha)]
    expected = t["step"](tm, *tt, detached)
    got = m["step"](mm, ms(real), ms(fake), ms(alpha), detached)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    for a, b in zip(*weights(tm, mm)):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_only_what_one_statement_computes_converts():
    result = convert_source(textwrap.dedent("""\
        import torch

        def grads(model, loss, D, x):
            g = torch.autograd.grad(loss, model.parameters())
            h = torch.autograd.grad(outputs=D(x).sum(), inputs=x)
            y = D(x)
            x = x * 2
            k = torch.autograd.grad(y, x, torch.ones_like(y))
            z = D(x)
            if k is None:
                return None  # a vjp made and never called stops the ones after it
            m = torch.autograd.grad(z, x, torch.ones_like(z))
            return g, h, k, m
        """), "prog.py")
    left = [f for f in result.report.findings if f.api == "torch.autograd.grad"]
    assert len(left) == 4 and all(f.action == "unsupported" for f in left)
    assert "mindspore.vjp" in left[0].message
    code = [line for line in result.code.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in code if "mindspore.vjp" in line or "_vjp" in line]


def test_lambda_for_an_expression_and_the_variable_that_goes():
    result, t, m = convert("""\
        import torch
        from torch.autograd import Variable, grad

        def gp(w, x0):
            x = Variable(x0 * 1.0, requires_grad=True)
            score = (x * w).sum(1, keepdim=True).tanh() + x.pow(2).mean()
            g, = grad(score, [x], grad_outputs=[torch.ones(x0.shape[0], 1)], create_graph=True)
            return g
        """)
    assert "score, score_vjp = mindspore.vjp(lambda x: (x * w).sum(" in result.code
    assert "g, = score_vjp(ops.ones((x0.shape[0], 1)))" in result.code
    assert "Variable" not in result.code and "Parameter" not in result.code
    rng = np.random.default_rng(4)
    w, x0 = rng.standard_normal((1, 5)), rng.standard_normal((3, 5))
    expected = t["gp"](torch.tensor(w, dtype=torch.float32), torch.tensor(x0, dtype=torch.float32))
    got = m["gp"](ms(w), ms(x0))
    np.testing.assert_allclose(got.asnumpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_variable_of_the_input_itself_goes():
    result = convert_source(textwrap.dedent("""\
        import torch
        from torch.autograd import Variable

        def gp(D, x):
            x = Variable(x, requires_grad=True)
            y = D(x)
            return torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True)[0]
        """), "prog.py")
    assert "x = x" not in result.code and "Variable" not in result.code
    assert "y, y_vjp = mindspore.vjp(D, x)" in result.code
    assert "return y_vjp(ops.ones_like(y))[0]" in result.code


def test_imported_under_another_name_after_a_device_move():
    result = convert_source(textwrap.dedent("""\
        import torch
        from torch.autograd import Variable
        from torch.autograd import grad as torch_grad

        def penalty(netD, interpolated):
            interpolated = Variable(interpolated, requires_grad=True)
            interpolated = interpolated.cuda()
            prob = netD(interpolated)
            gradients = torch_grad(outputs=prob, inputs=interpolated,
                                   grad_outputs=torch.ones(prob.size()).cuda(),
                                   create_graph=True, retain_graph=True)[0]
            return gradients
        """), "prog.py")
    code = result.code
    assert "prob, prob_vjp = mindspore.vjp(netD, interpolated)" in code
    assert "gradients = prob_vjp(ops.ones(prob.shape))[0]" in code
    assert "Variable" not in code and "Parameter" not in code and "torch" not in code


def test_wgan_gp_generator_every_n_critic_steps_trains_like_torch():
    """The whole WGAN-GP loop: the critic each step, the generator every n_critic steps
    inside `if`, noise made with the legacy tensor class chosen at run time."""
    result, t, m = convert(WGAN_GP)
    code = result.code
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    assert "g_loss, grads = grad_fn_g(z)" in code
    torch.manual_seed(0)
    tg, mg = t["Generator"](), m["Generator"]()
    td, md = t["Discriminator"](), m["Discriminator"]()
    copy_torch_weights(tg, mg)
    copy_torch_weights(td, md)
    rng = np.random.default_rng(5)
    batches = [(rng.standard_normal((5, 3, 4)), rng.standard_normal((5, 4)),
                rng.random((5, 1, 1))) for _ in range(5)]
    t_losses = t["train_both"](tg, td, [tuple(torch.tensor(a, dtype=torch.float32) for a in b)
                                        for b in batches])
    m_losses = m["train_both"](mg, md, [(ms(a), np.asarray(n, np.float32), ms(c))
                                        for a, n, c in batches])
    assert len(m_losses) == len(t_losses) == 3
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4, atol=1e-5)
    for tm, mm in ((tg, mg), (td, md)):
        for a, b in zip(*weights(tm, mm)):  # Adam's sign-like steps amplify float noise
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)
