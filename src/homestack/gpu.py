"""Which GPUs the host has, and which of them containers can actually use.

Sources, best first: NVML (pynvml, when importable), `nvidia-smi --query-gpu … --format=csv`,
`nvidia-smi -q -x`, then the device nodes (`/dev/nvidia*`, `/dev/kfd`, `/dev/dri/renderD*`
with their sysfs `uevent`) and Docker's side: `docker info` runtimes, CDI specs in /etc/cdi and
/var/run/cdi, and the NVIDIA Container Toolkit's tools. The `GPU` setting (auto, nvidia, amd,
intel, cpu) overrides the verdict. Every probe goes through a HostProbe, so tests run on
recorded hosts.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from .engine import hostcli
from .errors import BadInput
from .host.probe import HostProbe
from .models import GPU_VENDORS

SETTINGS = ("auto", *GPU_VENDORS, "cpu")
NVIDIA_QUERY = (
    "index,name,uuid,memory.total,memory.used,memory.free,driver_version,pci.bus_id,compute_cap"
)
TOOLKIT_TOOLS = (
    "nvidia-ctk",
    "nvidia-container-cli",
    "nvidia-container-runtime",
    "nvidia-container-runtime-hook",
)
CDI_DIRS = ("/etc/cdi", "/var/run/cdi")
PCI_VENDORS = {"10de": "nvidia", "1002": "amd", "8086": "intel"}
_DRI_DRIVERS = {"amdgpu": "amd", "radeon": "amd", "i915": "intel", "xe": "intel"}
_CDI_KIND = re.compile(r"""kind["']?\s*:\s*["']?(?P<kind>[\w.-]+/[\w.-]+)""")
NVIDIA_TOOLKIT_FIX = (
    "Run `homestack install drivers --yes`: it installs the NVIDIA Container Toolkit and runs "
    "`nvidia-ctk runtime configure --runtime=docker`, then restarts Docker."
)


@dataclass(frozen=True)
class GpuDevice:
    vendor: str
    model: str
    memory_mb: int | None = None
    driver: str | None = None  # NVIDIA: driver version; AMD/Intel: kernel driver (amdgpu, i915)
    uuid: str | None = None
    pci: str | None = None
    node: str | None = None  # /dev/nvidia0, /dev/dri/renderD128
    source: str = ""  # nvml, nvidia-smi-csv, nvidia-smi-xml, proc, sysfs

    def to_data(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DockerGpuSupport:
    """What Docker offers GPUs: installed, answering, its runtimes, CDI devices, toolkit."""

    installed: bool = False
    running: bool = False
    version: str | None = None
    runtimes: tuple[str, ...] = ()
    cdi_kinds: tuple[str, ...] = ()  # e.g. nvidia.com/gpu, from specs in /etc/cdi, /var/run/cdi
    cdi_files: tuple[str, ...] = ()
    toolkit: tuple[str, ...] = ()  # NVIDIA Container Toolkit tools found on PATH
    asked: bool = True  # False: no GPU, so `docker info` (slow on a busy engine) was skipped

    def to_data(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class GpuReport:
    """The verdict: devices found, vendors containers can use, and why not for the others."""

    setting: str = "auto"
    devices: tuple[GpuDevice, ...] = ()
    present_vendors: tuple[str, ...] = ()
    usable_vendors: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)  # vendor → why (not) usable
    fixes: dict[str, str] = field(default_factory=dict)  # vendor → what to do
    docker: DockerGpuSupport = field(default_factory=DockerGpuSupport)
    nodes: tuple[str, ...] = ()  # GPU device nodes seen under /dev

    def usable(self, vendor: str) -> bool:
        return vendor in self.usable_vendors

    def why_not(self) -> str:
        """One line for services that wanted a GPU and got none."""
        if self.setting == "cpu":
            return "GPU=cpu is set in .env"
        if not self.present_vendors:
            return "no GPU was found on this host"
        return "; ".join(self.reasons[v] for v in self.present_vendors if v in self.reasons)

    def fix(self) -> str:
        if self.setting == "cpu":
            return "Set GPU=auto in .env to use a GPU."
        fixes = [self.fixes[v] for v in self.present_vendors if v in self.fixes]
        return " ".join(fixes) or "Add a GPU that Docker can use."

    def to_data(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "devices": [d.to_data() for d in self.devices],
            "present_vendors": list(self.present_vendors),
            "usable_vendors": list(self.usable_vendors),
            "reasons": dict(self.reasons),
            "fixes": dict(self.fixes),
            "docker": self.docker.to_data(),
            "nodes": list(self.nodes),
        }


# ---- NVIDIA ---------------------------------------------------------------------------


def _mib(text: str | None) -> int | None:
    match = re.search(r"(\d+)", text or "")
    return int(match.group(1)) if match else None


def parse_nvml(data: dict[str, Any]) -> list[GpuDevice]:
    driver = str(data.get("driver") or "") or None
    devices = []
    for gpu in data.get("gpus") or []:
        total = gpu.get("memory_total")
        devices.append(
            GpuDevice(
                vendor="nvidia",
                model=str(gpu.get("name") or "NVIDIA GPU"),
                memory_mb=int(total) // (1024 * 1024) if total is not None else None,
                driver=driver,
                uuid=gpu.get("uuid"),
                pci=gpu.get("pci_bus_id"),
                node=f"/dev/nvidia{gpu['index']}" if "index" in gpu else None,
                source="nvml",
            )
        )
    return devices


def parse_smi_csv(text: str) -> list[GpuDevice]:
    """`nvidia-smi --query-gpu=… --format=csv` (header and units kept)."""
    rows = list(csv.reader(io.StringIO(text.strip()), skipinitialspace=True))
    if len(rows) < 2:
        return []
    header = [name.split(" [")[0].strip() for name in rows[0]]
    devices = []
    for row in rows[1:]:
        if len(row) != len(header):
            continue
        cell = dict(zip(header, (value.strip() for value in row), strict=True))
        devices.append(
            GpuDevice(
                vendor="nvidia",
                model=cell.get("name") or "NVIDIA GPU",
                memory_mb=_mib(cell.get("memory.total")),
                driver=cell.get("driver_version"),
                uuid=cell.get("uuid"),
                pci=cell.get("pci.bus_id"),
                node=f"/dev/nvidia{cell['index']}" if cell.get("index") else None,
                source="nvidia-smi-csv",
            )
        )
    return devices


def parse_smi_xml(text: str) -> list[GpuDevice]:
    """`nvidia-smi -q -x`."""
    try:
        tree = ElementTree.fromstring(text)  # noqa: S314 - local nvidia-smi output
    except ElementTree.ParseError:
        return []
    driver = tree.findtext("driver_version")
    devices = []
    for gpu in tree.findall("gpu"):
        minor = gpu.findtext("minor_number")
        devices.append(
            GpuDevice(
                vendor="nvidia",
                model=gpu.findtext("product_name") or "NVIDIA GPU",
                memory_mb=_mib(gpu.findtext("fb_memory_usage/total")),
                driver=driver,
                uuid=gpu.findtext("uuid"),
                pci=gpu.findtext("pci/pci_bus_id") or gpu.get("id"),
                node=f"/dev/nvidia{minor}" if minor and minor.isdigit() else None,
                source="nvidia-smi-xml",
            )
        )
    return devices


def _proc_driver(probe: HostProbe) -> str | None:
    text = probe.read("/proc/driver/nvidia/version") or ""
    match = re.search(r"\s(\d+\.\d+(?:\.\d+)?)\s", text)
    return match.group(1) if match else None


def nvidia_devices(probe: HostProbe) -> list[GpuDevice]:
    """NVIDIA GPUs the driver reports, from the best source that answers."""
    data = probe.nvml()
    if data and data.get("gpus"):
        return parse_nvml(data)
    smi = probe.which("nvidia-smi") or _known_smi(probe)
    if smi:
        done = probe.run([smi, f"--query-gpu={NVIDIA_QUERY}", "--format=csv"], timeout=30)
        if done.ok and (found := parse_smi_csv(done.stdout)):
            return found
        done = probe.run([smi, "-q", "-x"], timeout=30)
        if done.ok and (found := parse_smi_xml(done.stdout)):
            return found
    driver = _proc_driver(probe)
    nodes = [
        n for n in probe.glob("/dev", "nvidia[0-9]*") if n.removeprefix("/dev/nvidia").isdigit()
    ]
    return [
        GpuDevice("nvidia", "NVIDIA GPU", driver=driver, node=node, source="proc") for node in nodes
    ]


def _known_smi(probe: HostProbe) -> str | None:
    # the driver container layout of some hosts keeps nvidia-smi off PATH
    for candidate in ("/usr/local/nvidia/bin/nvidia-smi", "/usr/bin/nvidia-smi"):
        if probe.exists(candidate):
            return candidate
    return None


# ---- AMD and Intel (and NVIDIA cards without a driver) ----------------------------------


def _uevent(probe: HostProbe, sys_device: str) -> dict[str, str]:
    text = probe.read(f"{sys_device}/uevent") or ""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def dri_devices(probe: HostProbe) -> list[GpuDevice]:
    """Render nodes under /dev/dri, identified through /sys/class/drm/renderD*/device."""
    devices = []
    for node in probe.glob("/dev/dri", "renderD*"):
        name = node.rsplit("/", 1)[-1]
        sys_device = f"/sys/class/drm/{name}/device"
        event = _uevent(probe, sys_device)
        driver = event.get("DRIVER")
        pci_id = event.get("PCI_ID", "").lower()
        vendor = _DRI_DRIVERS.get(driver or "") or PCI_VENDORS.get(pci_id.split(":")[0], "")
        if not vendor or vendor == "nvidia":
            continue  # NVIDIA's render nodes are covered by the driver's own report
        vram = (probe.read(f"{sys_device}/mem_info_vram_total") or "").strip()
        label = (probe.read(f"{sys_device}/product_name") or "").strip()
        devices.append(
            GpuDevice(
                vendor=vendor,
                model=label or f"{vendor.upper() if vendor == 'amd' else 'Intel'} GPU [{pci_id}]",
                memory_mb=int(vram) // (1024 * 1024) if vram.isdigit() else None,
                driver=driver,
                pci=event.get("PCI_SLOT_NAME"),
                node=node,
                source="sysfs",
            )
        )
    return devices


def pci_display_vendors(probe: HostProbe) -> set[str]:
    """Vendors of PCI display controllers (class 0x03xxxx), with or without a driver."""
    found = set()
    for device in probe.glob("/sys/bus/pci/devices", "*"):
        klass = (probe.read(f"{device}/class") or "").strip()
        vendor = (probe.read(f"{device}/vendor") or "").strip().lower().removeprefix("0x")
        if klass.startswith("0x03") and vendor in PCI_VENDORS:
            found.add(PCI_VENDORS[vendor])
    return found


# ---- Docker's side ----------------------------------------------------------------------


def docker_support(probe: HostProbe, *, ask_engine: bool = True) -> DockerGpuSupport:
    toolkit = tuple(tool for tool in TOOLKIT_TOOLS if probe.which(tool))
    cdi_files: list[str] = []
    kinds: set[str] = set()
    for folder in CDI_DIRS:
        for path in probe.glob(folder, "*"):
            if not path.endswith((".yaml", ".yml", ".json")):
                continue
            cdi_files.append(path)
            kinds.update(m.group("kind") for m in _CDI_KIND.finditer(probe.read(path) or ""))
    docker = probe.which("docker")
    if docker and not ask_engine:
        return DockerGpuSupport(
            installed=True,
            cdi_kinds=tuple(sorted(kinds)),
            cdi_files=tuple(cdi_files),
            toolkit=toolkit,
            asked=False,
        )
    if not docker:
        return DockerGpuSupport(
            cdi_kinds=tuple(sorted(kinds)), cdi_files=tuple(cdi_files), toolkit=toolkit
        )
    done = probe.run(hostcli.info_argv(docker), timeout=30)
    info: dict[str, Any] = hostcli.parse_info(done.stdout) if done.ok else {}
    running = bool(info.get("ServerVersion"))
    for folder in info.get("CDISpecDirs") or []:
        if folder not in CDI_DIRS:
            for path in probe.glob(str(folder), "*"):
                cdi_files.append(path)
                kinds.update(m.group("kind") for m in _CDI_KIND.finditer(probe.read(path) or ""))
    return DockerGpuSupport(
        installed=True,
        running=running,
        version=info.get("ServerVersion") or None,
        runtimes=tuple(sorted((info.get("Runtimes") or {}).keys())),
        cdi_kinds=tuple(sorted(kinds)),
        cdi_files=tuple(cdi_files),
        toolkit=toolkit,
    )


# ---- the verdict ------------------------------------------------------------------------


def _docker_gap(docker: DockerGpuSupport) -> tuple[str, str] | None:
    if not docker.installed:
        return "Docker is not installed", "Run `homestack install docker`."
    if not docker.running:
        return (
            "the Docker engine is not running",
            "Start it: `systemctl start docker` (or `dockerd &` without systemd).",
        )
    return None


def _describe(devices: list[GpuDevice], vendor: str) -> str:
    mine = [d for d in devices if d.vendor == vendor]
    if not mine:
        return f"{vendor.upper() if vendor != 'intel' else 'Intel'} GPU"
    first = mine[0]
    detail = f" (driver {first.driver})" if first.driver else ""
    count = f"{len(mine)}× " if len(mine) > 1 else ""
    return f"{count}{first.model}{detail}"


Verdict = tuple[bool, str, str | None]  # usable, reason, fix


def _nvidia_verdict(name: str, docker: DockerGpuSupport) -> Verdict:
    gap = _docker_gap(docker)
    missing = []
    if not docker.toolkit:
        missing.append("the NVIDIA Container Toolkit is not installed")
    elif "nvidia" not in docker.runtimes and "nvidia.com/gpu" not in docker.cdi_kinds:
        missing.append(
            "Docker is not configured for it (no `nvidia` runtime in `docker info`, "
            "no nvidia.com/gpu CDI spec)"
        )
    if gap:
        missing.append(gap[0])
    if not missing:
        how = "nvidia runtime" if "nvidia" in docker.runtimes else "CDI"
        return True, f"{name}: containers can use it ({how})", None
    steps = ([gap[1]] if gap and not docker.installed else []) + [NVIDIA_TOOLKIT_FIX]
    if gap and docker.installed:
        steps.append(gap[1])
    reason = f"{name} is present but containers cannot use it: " + "; ".join(missing)
    return False, reason, " ".join(steps)


def _dri_verdict(vendor: str, name: str, docker: DockerGpuSupport, kfd: bool) -> Verdict:
    gap = _docker_gap(docker)
    if vendor == "amd" and not kfd:
        return (
            False,
            f"{name} has /dev/dri but no /dev/kfd, so ROCm cannot run",
            "Load the amdgpu kernel driver with its firmware "
            "(`homestack install drivers --yes`), then reboot.",
        )
    if gap:
        return False, f"{name} is present but {gap[0]}", gap[1]
    nodes = "/dev/kfd and /dev/dri" if vendor == "amd" else "/dev/dri"
    return True, f"{name}: containers can use {nodes}", None


def assess(probe: HostProbe) -> GpuReport:
    """Detect devices and Docker's support; the verdict for GPU=auto."""
    devices = nvidia_devices(probe) + dri_devices(probe)
    on_pci = pci_display_vendors(probe)
    docker = docker_support(probe, ask_engine=bool(devices or on_pci))
    kfd = probe.exists("/dev/kfd")
    nodes = tuple(
        probe.glob("/dev", "nvidia*")
        + (["/dev/kfd"] if kfd else [])
        + probe.glob("/dev/dri", "renderD*")
        + probe.glob("/dev/dri", "card*")
    )
    with_driver = {d.vendor for d in devices}
    reasons: dict[str, str] = {}
    fixes: dict[str, str] = {}
    usable: list[str] = []
    for vendor in sorted(on_pci - with_driver):
        reasons[vendor] = f"a {vendor} GPU is on the PCI bus but its driver is not loaded"
        fixes[vendor] = "Run `homestack install drivers --yes`, then reboot."
    for vendor in with_driver:
        name = _describe(devices, vendor)
        if vendor == "nvidia":
            ok, reason, fix = _nvidia_verdict(name, docker)
        else:
            ok, reason, fix = _dri_verdict(vendor, name, docker, kfd)
        reasons[vendor] = reason
        if fix:
            fixes[vendor] = fix
        if ok:
            usable.append(vendor)
    present = with_driver | set(reasons)
    return GpuReport(
        setting="auto",
        devices=tuple(devices),
        present_vendors=tuple(v for v in GPU_VENDORS if v in present),
        usable_vendors=tuple(v for v in GPU_VENDORS if v in usable),
        reasons=reasons,
        fixes=fixes,
        docker=docker,
        nodes=nodes,
    )


def apply_setting(report: GpuReport, setting: str | None) -> GpuReport:
    """GPU=auto keeps the verdict; cpu uses none; a vendor forces that vendor only."""
    value = (setting or "auto").strip().lower()
    if value not in SETTINGS:
        raise BadInput(
            f"GPU={setting} is not one of {', '.join(SETTINGS)}",
            "Set GPU in .env to auto (detect), nvidia, amd, intel or cpu.",
            file=".env",
        )
    if value == "auto":
        return report
    if value == "cpu":
        return dataclasses.replace(report, setting="cpu", usable_vendors=())
    reasons = dict(report.reasons)
    if value not in report.usable_vendors:
        reasons[value] = f"forced by GPU={value} (detection: {report.reasons.get(value, 'none')})"
    return dataclasses.replace(report, setting=value, usable_vendors=(value,), reasons=reasons)


def detect(probe: HostProbe | None = None, setting: str | None = "auto") -> GpuReport:
    """The GPU verdict for this host (or the probed one) under the GPU setting."""
    return apply_setting(assess(probe or HostProbe()), setting)


_CACHE: dict[str, GpuReport] = {}


def cached_report(setting: str | None = "auto") -> GpuReport:
    """detect() on this host, probed once per process (`reset_cache` forgets it)."""
    if "auto" not in _CACHE:
        _CACHE["auto"] = assess(HostProbe())
    return apply_setting(_CACHE["auto"], setting)


def reset_cache() -> None:
    _CACHE.clear()
