#!/usr/bin/python3
"""The reference side of scripts/bench-generator: MUNIT (one domain mapped to
itself) in PyTorch, written from the MUNIT paper's description and its
published configuration (the paper's K49 config), timed the way the paper's
code trains it: a discriminator update (encode, decode with a fresh style,
LSGAN on the detached fake) then a generator update (encode, decode the
reconstruction and the translation, encode the translation again, L1 terms
and LSGAN), each optimizer its own zero_grad/step.

usage: bench_generator_reference.py C H W train1|train32|sample|sample_bf16 [--compile]  -> one JSON line
--compile runs the networks' encode, decode and losses through torch.compile
(PyTorch 2.x); the warm-up iteration compiles them.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(__import__("os").environ.get("BENCH_THREADS", "2")))


class Block(nn.Module):
    """reflection pad, conv, norm (none|in|ln|adain), activation"""

    def __init__(self, cin, cout, k, s, p, norm="none", act="relu"):
        super().__init__()
        self.pad = nn.ReflectionPad2d(p)
        self.conv = nn.Conv2d(cin, cout, k, s, bias=True)
        self.norm_kind, self.act = norm, act
        if norm == "ln":
            self.gamma = nn.Parameter(torch.rand(cout))
            self.beta = nn.Parameter(torch.zeros(cout))
        self.adain = None

    def forward(self, x):
        x = self.conv(self.pad(x))
        if self.norm_kind == "in":
            x = F.instance_norm(x, eps=1e-5)
        elif self.norm_kind == "adain":
            b, c = x.shape[:2]
            w, bias = self.adain
            x = F.batch_norm(x.reshape(1, b * c, *x.shape[2:]), None, None, w.reshape(-1), bias.reshape(-1),
                             True, 0.1, 1e-5).view_as(x)
        elif self.norm_kind == "ln":
            flat = x.reshape(x.size(0), -1)
            mean = flat.mean(1).view(-1, 1, 1, 1)
            std = flat.std(1).view(-1, 1, 1, 1)
            x = (x - mean) / (std + 1e-5)
            x = x * self.gamma.view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)
        if self.act == "relu":
            x = F.relu(x, inplace=True)
        elif self.act == "lrelu":
            x = F.leaky_relu(x, 0.2, inplace=True)
        elif self.act == "tanh":
            x = torch.tanh(x)
        return x


class Res(nn.Module):
    def __init__(self, d, norm):
        super().__init__()
        self.a = Block(d, d, 3, 1, 1, norm, "relu")
        self.b = Block(d, d, 3, 1, 1, norm, "none")

    def forward(self, x):
        return self.b(self.a(x)) + x


class Gen(nn.Module):
    def __init__(self, c, dim=64, style_dim=8, mlp_dim=256, n_down=2, n_res=4):
        super().__init__()
        d = dim
        style = [Block(c, d, 7, 1, 3)]
        for i in range(4):
            nd = 2 * d if i < 2 else d
            style.append(Block(d, nd, 4, 2, 1))
            d = nd
        self.enc_style = nn.Sequential(*style, nn.AdaptiveAvgPool2d(1), nn.Conv2d(d, style_dim, 1))
        d = dim
        content = [Block(c, d, 7, 1, 3, "in")]
        for _ in range(n_down):
            content.append(Block(d, 2 * d, 4, 2, 1, "in"))
            d *= 2
        content += [Res(d, "in") for _ in range(n_res)]
        self.enc_content = nn.Sequential(*content)
        self.res = nn.ModuleList([Res(d, "adain") for _ in range(n_res)])
        up = []
        for _ in range(n_down):
            up += [nn.Upsample(scale_factor=2), Block(d, d // 2, 5, 1, 2, "ln")]
            d //= 2
        up.append(Block(d, c, 7, 1, 3, "none", "tanh"))
        self.up = nn.Sequential(*up)
        self.top = dim * 2 ** n_down
        n_adain = 4 * self.top * n_res
        self.mlp = nn.Sequential(nn.Linear(style_dim, mlp_dim), nn.ReLU(True), nn.Linear(mlp_dim, mlp_dim),
                                 nn.ReLU(True), nn.Linear(mlp_dim, n_adain))

    def encode(self, x):
        return self.enc_content(x), self.enc_style(x)

    def decode(self, content, style):
        p = self.mlp(style.view(style.size(0), -1))
        c = self.top
        i = 0
        for r in self.res:  # MUNIT writes these into the layers before the decoder runs
            for blk in (r.a, r.b):
                blk.adain = (p[:, i + c:i + 2 * c], p[:, i:i + c])
                i += 2 * c
        x = content
        for r in self.res:
            x = r(x)
        return self.up(x)


class Dis(nn.Module):
    def __init__(self, c, dim=64, n_layer=4):
        super().__init__()
        layers, d = [Block(c, dim, 4, 2, 1, "none", "lrelu")], dim
        for _ in range(n_layer - 1):
            layers.append(Block(d, 2 * d, 4, 2, 1, "none", "lrelu"))
            d *= 2
        layers.append(nn.Conv2d(d, 1, 1))
        self.net = nn.Sequential(*layers)

    def dis_loss(self, fake, real):
        return torch.mean(self.net(fake) ** 2) + torch.mean((self.net(real) - 1) ** 2)

    def gen_loss(self, fake):
        return torch.mean((self.net(fake) - 1) ** 2)


def init(m, kind):
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            if kind == "kaiming":
                nn.init.kaiming_normal_(mod.weight, a=0, mode="fan_in")
            else:
                nn.init.normal_(mod.weight, 0.0, 0.02)
            nn.init.zeros_(mod.bias)


def main():
    c, h, w = map(int, sys.argv[1:4])
    what = sys.argv[4]
    torch.manual_seed(0)
    gen, dis = Gen(c), Dis(c)
    init(gen, "kaiming")
    init(dis, "gaussian")
    compiled = "--compile" in sys.argv[5:]
    if compiled:
        gen.encode, gen.decode = torch.compile(gen.encode), torch.compile(gen.decode)
        dis.dis_loss, dis.gen_loss = torch.compile(dis.dis_loss), torch.compile(dis.gen_loss)
    opt = dict(lr=1e-4, betas=(0.5, 0.999), weight_decay=1e-4)
    gopt, dopt = torch.optim.Adam(gen.parameters(), **opt), torch.optim.Adam(dis.parameters(), **opt)

    def iteration(x):
        dopt.zero_grad()
        s = torch.randn(x.size(0), 8, 1, 1)
        content, _ = gen.encode(x)
        fake = gen.decode(content, s)
        dis.dis_loss(fake.detach(), x).backward()
        dopt.step()
        gopt.zero_grad()
        s = torch.randn(x.size(0), 8, 1, 1)
        content, style = gen.encode(x)
        recon = gen.decode(content, style)
        fake = gen.decode(content, s)
        c2, s2 = gen.encode(fake)
        loss = (dis.gen_loss(fake) + 10 * (recon - x).abs().mean() + (s2 - s).abs().mean() +
                (c2 - content).abs().mean())
        loss.backward()
        gopt.step()

    if what in ("train1", "train32"):
        batch = 1 if what == "train1" else 32
        iters = 3 if batch == 1 else 1
        x = torch.rand(batch, c, h, w) * 2 - 1
        iteration(x)  # warm-up
        t = time.perf_counter()
        for _ in range(iters):
            iteration(x)
        rate = iters / (time.perf_counter() - t)
    else:
        batch = 128
        x = torch.rand(batch, c, h, w) * 2 - 1
        # sample_bf16: the same under autocast to bfloat16 (invkit's --gen-precision bf16)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=what == "sample_bf16")
        with torch.no_grad(), autocast:
            def sample():  # MUNIT's encode (content and style), a random style, decode
                content, _ = gen.encode(x)
                return gen.decode(content, torch.randn(batch, 8, 1, 1))
            sample()
            t = time.perf_counter()
            sample()
            rate = batch / (time.perf_counter() - t)
    print(json.dumps({"side": "pytorch", "torch": torch.__version__, "compile": compiled, "what": what, "batch": batch, "per_s": rate,
                      "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
