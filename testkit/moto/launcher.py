"""moto 5.2.x EC2 server for fluxburst tests, plus a few small patches.

Run:  .tools/venv/bin/python testkit/moto/launcher.py [--port N]
Prints exactly one line "READY <port>" on stdout once serving (without --port, a port the kernel picked); stops on SIGTERM/SIGINT.

Everything not listed below is plain moto (ThreadedMotoServer). Our additions,
each modelled on the EC2 API reference (see testkit/moto/README.md):

  P1  CreateFleet ClientToken idempotency
  P2  instant fleets: unavailable capacity pools, partial fleets with Errors[],
      MinTargetCapacity / SingleInstanceType / SingleAvailabilityZone
  P3  placement groups (Create/Describe/DeletePlacementGroup) and
      Placement.GroupName kept on instances (RunInstances, launch templates, fleets)
  P4  spot interruption marking (control endpoint)
  P5  DryRun honoured by DeleteFleets, DescribeFleets, DescribeInstanceTypes (moto really
      runs them). moto 5.2.5 itself already answers DryRunOperation with HTTP 412 (status
      taken from the botocore error model), and our new actions use the same check.
  P6  InterfaceType (e.g. "efa") kept on the network interfaces of launched instances
  P8  boot time: fleet instances stay `pending` for a set time (control endpoint)
  P7  injected API faults (control endpoint): an EC2 action answers an error, before or
      after moto really did it (the "EC2 acted, the answer was lost" case)
  P9  DeleteFleets with TerminateInstances of a fleet that has no instances left deletes it (moto
      answered InvalidParameterCombination "No instances specified", which EC2 never does here)
  +   control endpoint under /_fluxburst/ and an EC2-action call counter
"""

from __future__ import annotations

import argparse
import io
import json
import math
import secrets
import signal
import sys
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.fleets import Fleet
from moto.ec2.models.instances import InstanceBackend, StateReason
from moto.ec2.responses import EC2Response
from moto.ec2.responses.fleets import Fleets
from moto.ec2.responses.instances import InstanceResponse
from moto.ec2.utils import filter_dict_attribute_mapping
from moto.moto_api._internal.models import moto_api_backend
from moto.server import ThreadedMotoServer

LOCK = threading.RLock()  # serialises our fleet logic and control calls

# Our state that is not kept on moto backends (cleared by /_fluxburst/reset).
CAPACITY_RULES: list[dict[str, Any]] = []  # from POST /_fluxburst/capacity
FAULTS: list[dict[str, Any]] = []  # from POST /_fluxburst/fault
BOOT = {"seconds": 0.0}  # from POST /_fluxburst/boot: how long fleet instances stay pending
CALLS: Counter[str] = Counter()  # EC2 Action -> count since reset
TIMERS: list[threading.Timer] = []  # pending spot terminations


def _state(backend: Any, name: str) -> dict[str, Any]:
    """Per-(account, region) dict stored on the moto EC2 backend, so moto's reset clears it."""
    return backend.__dict__.setdefault(f"_fluxburst_{name}", {})


# --------------------------------------------------------------------------------------
# P3 + P6: extra launch settings that moto drops (Placement.GroupName, NIC InterfaceType).
# moto's Fleet/spot paths call backend.run_instances() with a fixed argument list, so the
# caller puts the extras in a thread-local and the wrapped run_instances() applies them.
# --------------------------------------------------------------------------------------
_LAUNCH = threading.local()
_orig_backend_run_instances = InstanceBackend.run_instances


def _run_instances(self: Any, image_id: Any, count: int, user_data: Any, security_group_names: Any, **kwargs: Any) -> Any:
    extra: dict[str, Any] = getattr(_LAUNCH, "extra", None) or {}
    template: dict[str, Any] = {}
    lt = kwargs.get("launch_template") or extra.get("launch_template")
    if lt:
        template = self._get_template_from_args(lt).data
    if extra.get("launch_template") and not kwargs.get("launch_template"):
        kwargs["launch_template"] = extra["launch_template"]  # adds aws:ec2launchtemplate:* tags
    if extra.get("security_group_ids"):  # the template's groups (moto's spot path passes "default")
        kwargs["security_group_ids"] = list(extra["security_group_ids"])
    nics = kwargs.get("nics") or extra.get("nics") or template.get("NetworkInterfaces") or []
    if nics and not kwargs.get("nics"):
        subnet = kwargs.get("subnet_id")
        kwargs["nics"] = [
            {k: v for k, v in dict(n, SubnetId=subnet or n.get("SubnetId")).items() if v is not None and k != "InterfaceType"}
            for n in nics
        ]
        if subnet:
            kwargs["subnet_id"] = subnet
    group = extra.get("placement_group") or (template.get("Placement") or {}).get("GroupName")
    reservation = _orig_backend_run_instances(self, image_id, count, user_data, security_group_names, **kwargs)
    types = {int(n.get("DeviceIndex", 0)): n.get("InterfaceType") for n in nics}
    for inst in reservation.instances:
        if group:
            inst.placement.group_name = group
        for idx, eni in inst.nics.items():
            if types.get(idx):
                eni.interface_type = types[idx]
        if extra.get("fleet_id"):
            inst.add_tags({"aws:ec2:fleet-id": extra["fleet_id"]})
    return reservation


InstanceBackend.run_instances = _run_instances  # type: ignore[method-assign]

# DescribeInstances filters moto lacks (it answers 500 NotImplementedError for them).
filter_dict_attribute_mapping["placement-group-name"] = "placement.group_name"
filter_dict_attribute_mapping["instance-lifecycle"] = "lifecycle"  # "spot" for spot instances


def _placement_group(backend: Any, name: str) -> dict[str, Any]:
    pg = _state(backend, "placement_groups").get(name)
    if pg is None:
        raise EC2ClientError("InvalidPlacementGroup.Unknown", f"The Placement Group '{name}' is unknown.")
    return pg


_orig_response_run_instances = InstanceResponse.run_instances


def _response_run_instances(self: Any) -> Any:
    group = self._get_param("Placement.GroupName")
    if group:
        _placement_group(self.ec2_backend, group)
    _LAUNCH.extra = {"placement_group": group} if group else {}
    try:
        return _orig_response_run_instances(self)
    finally:
        _LAUNCH.extra = {}


EC2Response.run_instances = _response_run_instances  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------
# P3: placement groups (moto 5.2.5 has none). Shapes follow the EC2 API reference.
# --------------------------------------------------------------------------------------
def create_placement_group(self: Any) -> ActionResult:
    name = self._get_param("GroupName")
    strategy = self._get_param("Strategy")
    if strategy not in ("cluster", "spread", "partition"):
        raise EC2ClientError("InvalidParameterValue", f"Value ({strategy}) for parameter strategy is invalid.")
    self.error_on_dryrun()
    groups = _state(self.ec2_backend, "placement_groups")
    with LOCK:
        if name in groups:
            raise EC2ClientError("InvalidPlacementGroup.Duplicate", f"The Placement Group '{name}' already exists.")
        gid = "pg-" + secrets.token_hex(9)[:17]
        tags = [
            {"Key": t["Key"], "Value": t.get("Value", "")}
            for spec in self._get_param("TagSpecifications", [])
            if spec.get("ResourceType") == "placement-group"
            for t in spec.get("Tags", [])
        ]
        pg = {
            "GroupName": name,
            "GroupId": gid,
            "GroupArn": f"arn:aws:ec2:{self.region}:{self.current_account}:placement-group/{name}",
            "State": "available",
            "Strategy": strategy,
            "Tags": tags,
        }
        if strategy == "partition":
            pg["PartitionCount"] = int(self._get_param("PartitionCount") or 2)
        if strategy == "spread":
            pg["SpreadLevel"] = self._get_param("SpreadLevel") or "rack"
        groups[name] = pg
    return ActionResult({"PlacementGroup": pg})


def _pg_filter_value(pg: dict[str, Any], name: str) -> list[str]:
    if name.startswith("tag:"):
        return [t["Value"] for t in pg["Tags"] if t["Key"] == name[4:]]
    if name == "tag-key":
        return [t["Key"] for t in pg["Tags"]]
    key = {"group-name": "GroupName", "group-arn": "GroupArn", "state": "State",
           "strategy": "Strategy", "spread-level": "SpreadLevel"}.get(name)
    if key is None:
        raise EC2ClientError("InvalidParameterValue", f"The filter '{name}' is invalid")
    return [str(pg[key])] if key in pg else []


def describe_placement_groups(self: Any) -> ActionResult:
    self.error_on_dryrun()
    groups = list(_state(self.ec2_backend, "placement_groups").values())
    names = self._get_param("GroupNames", [])
    ids = self._get_param("GroupIds", [])
    for n in names:
        _placement_group(self.ec2_backend, n)
    for i in ids:
        if not any(g["GroupId"] == i for g in groups):
            raise EC2ClientError("InvalidPlacementGroupId.NotFound", f"The Placement Group ID '{i}' does not exist")
    if names:
        groups = [g for g in groups if g["GroupName"] in names]
    if ids:
        groups = [g for g in groups if g["GroupId"] in ids]
    for f in self._get_param("Filters", []):
        wanted = set(f.get("Values", []))
        groups = [g for g in groups if wanted & set(_pg_filter_value(g, f["Name"]))]
    return ActionResult({"PlacementGroups": groups})


def delete_placement_group(self: Any) -> ActionResult:
    name = self._get_param("GroupName")
    self.error_on_dryrun()
    with LOCK:
        _placement_group(self.ec2_backend, name)
        in_use = any(
            i.placement.group_name == name and i.state != "terminated"
            for i in self.ec2_backend.all_instances()
        )
        if in_use:
            raise EC2ClientError("InvalidPlacementGroup.InUse", f"The placement group '{name}' is in use and may not be deleted.")
        del _state(self.ec2_backend, "placement_groups")[name]
    return ActionResult({})


EC2Response.create_placement_group = create_placement_group  # type: ignore[attr-defined]
EC2Response.describe_placement_groups = describe_placement_groups  # type: ignore[attr-defined]
EC2Response.delete_placement_group = delete_placement_group  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------
# P2: capacity pools made unavailable by the control endpoint, and EC2's error messages.
# --------------------------------------------------------------------------------------
def _rule_matches(rule: dict[str, Any], itype: str, az: str, lifecycle: str) -> bool:
    return (
        rule["instanceType"] == itype
        and rule.get("availabilityZone") in (None, az)
        and rule.get("capacityType") in (None, lifecycle)
    )


def _blocking_rule(itype: str, az: str, lifecycle: str, used: Counter[int]) -> dict[str, Any] | None:
    """The rule that stops one more launch in this pool (its 'available' budget is spent)."""
    for i, rule in enumerate(CAPACITY_RULES):
        if _rule_matches(rule, itype, az, lifecycle) and rule["available"] - used[i] <= 0:
            return rule
    return None


def _error_message(code: str, itype: str, az: str, n: int) -> str:
    if code == "InsufficientInstanceCapacity":
        return (f"We currently do not have sufficient {itype} capacity in the Availability Zone you requested ({az}). "
                f"Our system will be working on provisioning additional capacity. You can currently get {itype} "
                "capacity by not specifying an Availability Zone in your request or choosing other Availability Zones.")
    if code == "MaxSpotInstanceCountExceeded":
        return "Max spot instance count exceeded"
    if code == "Unsupported":
        return (f"Your requested instance type ({itype}) is not supported in your requested Availability Zone ({az}). "
                "Please retry your request by not specifying an Availability Zone or choosing another Availability Zone.")
    if code == "InstanceLimitExceeded":
        return (f"You have requested more instances ({n}) than your current instance limit allows for the specified "
                "instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.")
    return f"{code} for {itype} in {az}"


# --------------------------------------------------------------------------------------
# P1 + P2: CreateFleet. Non-instant fleets keep moto's behaviour (plus P1). For instant
# fleets we build moto's Fleet with zero target (so moto resolves launch templates and
# keeps DescribeFleets/DeleteFleets working) and do the allocation ourselves:
#  - each capacity type (on-demand, spot) is filled separately: OnDemandTargetCapacity /
#    SpotTargetCapacity plus the rest of TotalTargetCapacity for DefaultTargetCapacityType;
#  - pools (override = instance type x subnet/AZ) are tried in request order, or by
#    Priority when given; SpotOptions.AllocationStrategy=diversified spreads round-robin;
#  - a pool blocked through /_fluxburst/capacity is skipped and reported once in Errors;
#  - SingleInstanceType / SingleAvailabilityZone keep one capacity type in one group;
#  - MinTargetCapacity not reached -> nothing launched for that capacity type, Errors only.
# --------------------------------------------------------------------------------------
_orig_create_fleet = Fleets.create_fleet


def _fingerprint(resp: Any) -> str:
    params = {k: v for k, v in resp._get_params().items() if k not in ("ClientToken", "DryRun")}
    return json.dumps(params, sort_keys=True, default=str)


def create_fleet(self: Any) -> ActionResult:
    token = self._get_param("ClientToken")
    self.error_on_dryrun()
    with LOCK:
        tokens = _state(self.ec2_backend, "fleet_tokens")
        if token and token in tokens:
            fp, result = tokens[token]
            if fp != _fingerprint(self):
                raise EC2ClientError(
                    "IdempotentParameterMismatch",
                    "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
                )
            return ActionResult(result)  # same token + same request: same fleet, no new launch
        if self._get_param("Type", "maintain") == "instant":
            result = _create_instant_fleet(self)
        else:
            result = _orig_create_fleet(self).result
        if token:
            tokens[token] = (_fingerprint(self), result)
        return ActionResult(result)


def _create_instant_fleet(self: Any) -> dict[str, Any]:
    backend = self.ec2_backend
    tcs = self._get_param("TargetCapacitySpecification", {})
    od_opts = self._get_param("OnDemandOptions", {}) or {}
    spot_opts = self._get_param("SpotOptions", {}) or {}
    configs = self._get_param("LaunchTemplateConfigs", [])
    for opts in (od_opts, spot_opts):
        if opts.get("MinTargetCapacity") and not (opts.get("SingleInstanceType") or opts.get("SingleAvailabilityZone")):
            raise EC2ClientError(
                "InvalidFleetConfig",
                "MinTargetCapacity requires SingleInstanceType or SingleAvailabilityZone to be set.",
            )
    zero = dict(tcs, TotalTargetCapacity=0, OnDemandTargetCapacity=0, SpotTargetCapacity=0)
    fleet: Fleet = backend.create_fleet(
        on_demand_options=od_opts, spot_options=spot_opts, target_capacity_specification=zero,
        launch_template_configs=configs, excess_capacity_termination_policy=None,
        replace_unhealthy_instances=False, terminate_instances_with_expiration=True,
        fleet_type="instant", valid_from=None, valid_until=None,
        tag_specifications=self._get_param("TagSpecifications", []),
    )
    fleet.target_capacity_specification = tcs
    fleet.target_capacity = int(tcs.get("TotalTargetCapacity", 0))

    # Pools: moto's launch specs (same order as configs x overrides) + the merged LT data moto drops.
    merged: list[dict[str, Any]] = []
    for config in configs:
        ls = config["LaunchTemplateSpecification"]
        if "LaunchTemplateId" in ls:
            lt = backend.get_launch_template(template_id=ls["LaunchTemplateId"])
        elif "LaunchTemplateName" in ls:
            lt = backend.get_launch_template_by_name(name=ls["LaunchTemplateName"])
        else:
            continue
        version = ls.get("Version")
        version = {"$Latest": lt.latest_version_number, "$Default": lt.default_version_number}.get(version, version)
        data = lt.get_version(version or lt.default_version_number).data
        for override in config.get("Overrides") or [{}]:
            merged.append(dict(data, **override))
    pools = []
    for pos, (spec, data) in enumerate(zip(fleet.launch_specs, merged)):
        az = (backend.get_subnet(spec.subnet_id).availability_zone if spec.subnet_id
              else data.get("AvailabilityZone") or (data.get("Placement") or {}).get("AvailabilityZone")
              or backend.region_name + "a")
        pools.append({"spec": spec, "data": data, "az": az, "order": (float(data.get("Priority", math.inf)), pos)})
    pools.sort(key=lambda p: p["order"])

    total = int(tcs.get("TotalTargetCapacity", 0))
    od, sp = int(tcs.get("OnDemandTargetCapacity", 0) or 0), int(tcs.get("SpotTargetCapacity", 0) or 0)
    rest = max(0, total - od - sp)
    if (tcs.get("DefaultTargetCapacityType") or "on-demand") == "spot":
        sp += rest
    else:
        od += rest

    used: Counter[int] = Counter()  # launches counted against each capacity rule
    errors: list[dict[str, Any]] = []
    for lifecycle, target, opts in (("on-demand", od, od_opts), ("spot", sp, spot_opts)):
        if target <= 0:
            continue
        plan, errs, got = _plan(pools, lifecycle, target, opts, used)
        errors += errs
        if got < int(opts.get("MinTargetCapacity") or 0):
            continue  # all-or-nothing for this capacity type: launch nothing, keep the Errors
        for pool, n in plan:
            for i, rule in enumerate(CAPACITY_RULES):
                if _rule_matches(rule, pool["spec"].instance_type, pool["az"], lifecycle):
                    used[i] += n
            _launch(backend, fleet, pool, lifecycle, n)
    for i, n in used.items():
        CAPACITY_RULES[i]["available"] -= n

    # EC2 returns one Instances entry per (launch template + overrides, lifecycle) with all its
    # InstanceIds; moto returns one entry per instance.
    grouped: dict[str, dict[str, Any]] = {}
    for entry in fleet.instances or []:
        key = json.dumps([entry["Lifecycle"], entry.get("LaunchTemplateAndOverrides")], sort_keys=True, default=str)
        if key in grouped:
            grouped[key]["InstanceIds"] += entry["InstanceIds"]
        else:
            grouped[key] = dict(entry, InstanceIds=list(entry["InstanceIds"]))
    result: dict[str, Any] = {"FleetId": fleet.id, "Instances": list(grouped.values())}
    if errors:
        result["Errors"] = errors
    return result


def _plan(pools: list[dict[str, Any]], lifecycle: str, target: int, opts: dict[str, Any], used: Counter[int]) -> tuple[list[tuple[dict[str, Any], int]], list[dict[str, Any]], float]:
    """Choose pools for one capacity type. Returns ([(pool, count)], errors, capacity reached)."""
    def group_key(p: dict[str, Any]) -> tuple[Any, ...]:
        return ((p["spec"].instance_type if opts.get("SingleInstanceType") else None),
                (p["az"] if opts.get("SingleAvailabilityZone") else None))

    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for p in pools:
        groups.setdefault(group_key(p), []).append(p)
    best: tuple[list[tuple[dict[str, Any], int]], float] = ([], 0.0)
    errors: dict[int, dict[str, Any]] = {}  # one per blocked pool
    for members in groups.values():
        trial = Counter(used)
        counts: Counter[int] = Counter()
        got = 0.0
        blocked: set[int] = set()
        diversified = lifecycle == "spot" and opts.get("AllocationStrategy") == "diversified"
        while got < target and len(blocked) < len(members):
            progressed = False
            for idx, p in enumerate(members):
                if idx in blocked or got >= target:
                    continue
                rule = _blocking_rule(p["spec"].instance_type, p["az"], lifecycle, trial)
                if rule is not None:
                    blocked.add(idx)
                    errors.setdefault(id(p), _fleet_error(p, lifecycle, rule, target))
                    continue
                counts[idx] += 1
                got += p["spec"].weighted_capacity
                for i, r in enumerate(CAPACITY_RULES):
                    if _rule_matches(r, p["spec"].instance_type, p["az"], lifecycle):
                        trial[i] += 1
                progressed = True
                if diversified:
                    continue
                break  # not diversified: stay on the first pool that still has capacity
            if not progressed:
                break
        if got > best[1]:
            best = ([(members[i], n) for i, n in counts.items()], got)
        if got >= target:
            break
    return best[0], list(errors.values()), best[1]


def _fleet_error(pool: dict[str, Any], lifecycle: str, rule: dict[str, Any], target: int) -> dict[str, Any]:
    spec = pool["spec"]
    lto: dict[str, Any] = {"LaunchTemplateSpecification": spec.launch_template_spec}
    if spec.overrides:
        lto["Overrides"] = spec.overrides
    return {
        "LaunchTemplateAndOverrides": lto,
        "Lifecycle": lifecycle,
        "ErrorCode": rule["errorCode"],
        "ErrorMessage": _error_message(rule["errorCode"], spec.instance_type, pool["az"], target),
    }


def _launch(backend: Any, fleet: Fleet, pool: dict[str, Any], lifecycle: str, n: int) -> None:
    spec, data = pool["spec"], pool["data"]
    _LAUNCH.extra = {
        "placement_group": (data.get("Placement") or {}).get("GroupName"),
        "nics": data.get("NetworkInterfaces"),
        "security_group_ids": data.get("SecurityGroupIds"),
        "launch_template": {k: v for k, v in spec.launch_template_spec.items() if k in ("LaunchTemplateId", "Version")},
        "fleet_id": fleet.id,
    }
    try:
        if lifecycle == "spot":
            fleet.spot_requests.extend(backend.request_spot_instances(
                price=spec.spot_price or data.get("MaxPrice"), image_id=spec.image_id, count=n,
                spot_instance_type="one-time", valid_from=None, valid_until=None, launch_group=None,
                availability_zone_group=None, key_name=spec.key_name, security_groups=[],
                user_data=spec.user_data, instance_type=spec.instance_type, placement=None,
                kernel_id=None, ramdisk_id=None, monitoring_enabled=spec.monitoring_enabled,
                subnet_id=spec.subnet_id, spot_fleet_id=fleet.id, tags=spec.tag_specifications,
                launch_spec=spec,
            ))
            fleet.fulfilled_spot_capacity += n * spec.weighted_capacity
        else:
            reservation = backend.run_instances(
                image_id=spec.image_id, count=n, instance_type=spec.instance_type,
                is_instance_type_default=False, key_name=spec.key_name, security_group_names=[],
                user_data=spec.user_data, placement=None if spec.subnet_id else pool["az"],
                kernel_id=None, ramdisk_id=None, monitoring_enabled=spec.monitoring,
                subnet_id=spec.subnet_id, fleet_id=fleet.id, tags=spec.tag_specifications,
            )
            for inst in reservation.instances:
                fleet.on_demand_instances.append({"id": reservation.id, "instance": inst, "launch_spec": spec})
            fleet.fulfilled_on_demand_capacity += n * spec.weighted_capacity
        fleet.fulfilled_capacity += n * spec.weighted_capacity
        if BOOT["seconds"] > 0:
            launched = reservation.instances if lifecycle != "spot" else [r.instance for r in fleet.spot_requests[-n:] if getattr(r, "instance", None)]
            for inst in launched:
                _boot(inst, BOOT["seconds"])
    finally:
        _LAUNCH.extra = {}


def _boot(inst: Any, seconds: float) -> None:
    """P8: an instance is `pending` while it boots (moto starts them `running`)."""
    inst._state.name, inst._state.code = "pending", 0

    def running() -> None:
        with LOCK:
            if inst._state.name == "pending":
                inst._state.name, inst._state.code = "running", 16

    t = threading.Timer(seconds, running)
    t.daemon = True
    TIMERS.append(t)
    t.start()


EC2Response.create_fleet = create_fleet  # type: ignore[method-assign]


# P9: moto's Fleet.terminate_instances() calls terminate_instances([]) for a fleet without live
# instances, which raises InvalidParameterCombination; EC2 deletes such a fleet and says so.
_orig_fleet_terminate = Fleet.terminate_instances


def _fleet_terminate_instances(self: Any) -> None:
    live = [r for r in self.spot_requests + self.on_demand_instances
            if getattr(getattr(r, "instance", None) or (r.get("instance") if isinstance(r, dict) else None), "state", "terminated") != "terminated"]
    if not live:
        return
    _orig_fleet_terminate(self)


Fleet.terminate_instances = _fleet_terminate_instances  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------
# P5: DryRun on actions where moto ignores it (a dry-run DeleteFleets must not delete).
# --------------------------------------------------------------------------------------
def _dry_run_first(name: str) -> None:
    original = getattr(EC2Response, name)

    def checked(self: Any) -> Any:
        self.error_on_dryrun()  # -> DryRunOperation, HTTP 412
        return original(self)

    setattr(EC2Response, name, checked)


for _name in ("delete_fleets", "describe_fleets", "describe_instance_types"):
    _dry_run_first(_name)


# --------------------------------------------------------------------------------------
# P4: spot interruption. EC2 sets the request's status to marked-for-termination (the
# two-minute warning), then the instance goes shutting-down -> terminated with
# StateReason Server.SpotInstanceTermination, and the request is closed.
# --------------------------------------------------------------------------------------
def interrupt(instance_id: str, after: float) -> None:
    from moto.ec2.models import ec2_backends

    for account in list(ec2_backends.keys()):
        for region in list(ec2_backends[account].keys()):
            backend = ec2_backends[account][region]
            for req in backend.spot_instance_requests.values():
                if getattr(req, "instance", None) is not None and req.instance.id == instance_id:
                    _mark(req, after)
                    return
    raise KeyError(f"no spot request for instance {instance_id}")


def _mark(req: Any, after: float) -> None:
    req._status_code = "marked-for-termination"
    req.status_message = "Spot Instance is marked for termination."
    inst = req.instance
    reason = StateReason("Server.SpotInstanceTermination: Spot instance termination", "Server.SpotInstanceTermination")

    def shutting_down() -> None:
        with LOCK:
            if inst.state == "terminated":
                return
            inst._state.name, inst._state.code = "shutting-down", 32
            inst.state_reason = reason
        t = threading.Timer(min(1.0, max(after, 0.2)), terminated)
        t.daemon = True
        TIMERS.append(t)
        t.start()

    def terminated() -> None:
        with LOCK:
            if inst.state != "terminated":
                inst.terminate()
            inst.state_reason = reason
            inst._reason = "Server.SpotInstanceTermination"
            req.state = "closed"
            req._status_code = "instance-terminated-no-capacity"
            req.status_message = "Spot Instance terminated due to no available capacity."

    t = threading.Timer(after, shutting_down)
    t.daemon = True
    TIMERS.append(t)
    t.start()


# --------------------------------------------------------------------------------------
# WSGI middleware: /_fluxburst/ control endpoint and the EC2 call counter.
# --------------------------------------------------------------------------------------
def _json(start_response: Any, status: str, body: Any) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _control(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
    with LOCK:
        if path == "/_fluxburst/capacity" and method == "POST":
            if not body.get("instanceType") or not body.get("errorCode"):
                return _json(start_response, "400 Bad Request", {"error": "instanceType and errorCode are required"})
            CAPACITY_RULES.append({
                "instanceType": body["instanceType"],
                "availabilityZone": body.get("availabilityZone"),
                "capacityType": body.get("capacityType"),
                "errorCode": body["errorCode"],
                "available": int(body.get("available", 0)),  # launches still allowed before the error
            })
            return _json(start_response, "200 OK", {"rules": CAPACITY_RULES})
        if path == "/_fluxburst/capacity" and method == "DELETE":
            CAPACITY_RULES.clear()
            return _json(start_response, "200 OK", {"rules": []})
        if path == "/_fluxburst/interrupt" and method == "POST":
            try:
                interrupt(body["instanceId"], float(body.get("terminateAfterSeconds", 2)))
            except KeyError as e:
                return _json(start_response, "404 Not Found", {"error": str(e)})
            return _json(start_response, "200 OK", {"ok": True})
        if path == "/_fluxburst/fault" and method == "POST":
            if not body.get("action") or not (body.get("errorCode") or body.get("delayMs")):
                return _json(start_response, "400 Bad Request", {"error": "action and errorCode or delayMs are required"})
            FAULTS.append({
                "action": body["action"],
                "errorCode": body.get("errorCode"),
                "delayMs": int(body.get("delayMs", 0)),
                "status": int(body.get("status", 403)),
                "after": bool(body.get("after", True)),  # run the action first: EC2 acted, the answer is lost
                "times": int(body.get("times", 1)),
            })
            return _json(start_response, "200 OK", {"faults": FAULTS})
        if path == "/_fluxburst/fault" and method == "DELETE":
            FAULTS.clear()
            return _json(start_response, "200 OK", {"faults": []})
        if path == "/_fluxburst/boot" and method == "POST":
            BOOT["seconds"] = float(body.get("seconds", 0))
            return _json(start_response, "200 OK", BOOT)
        if path == "/_fluxburst/calls" and method == "GET":
            return _json(start_response, "200 OK", dict(CALLS))
        if path == "/_fluxburst/reset" and method == "POST":
            for t in TIMERS:
                t.cancel()
            TIMERS.clear()
            CAPACITY_RULES.clear()
            FAULTS.clear()
            BOOT["seconds"] = 0.0
            CALLS.clear()
            moto_api_backend.reset()
            return _json(start_response, "200 OK", {"ok": True})
    return _json(start_response, "404 Not Found", {"error": f"no route {method} {path}"})


class Middleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/_fluxburst/"):
            return _control(environ, start_response)
        if environ.get("REQUEST_METHOD") == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(raw)
            form = parse_qs(raw.decode("utf-8", "replace"))
            if form.get("Version") == ["2016-11-15"] and form.get("Action"):
                action = form["Action"][0]
                with LOCK:
                    CALLS[action] += 1
                    fault = next((f for f in FAULTS if f["action"] == action and f["times"] > 0), None)
                    if fault:
                        fault["times"] -= 1
                if fault:
                    return self._fault(fault, environ, start_response)
        return self.app(environ, start_response)

    def _fault(self, fault: dict[str, Any], environ: dict[str, Any], start_response: Any) -> list[bytes]:
        """Answer an EC2 error; with `after`, only once moto has really done the call. With only a
        delay, moto's own answer comes late (the caller may be gone by then)."""
        if not fault["errorCode"]:
            captured: dict[str, Any] = {}

            def keep(status: str, headers: Any, *rest: Any) -> None:
                captured["status"], captured["headers"] = status, headers

            out = [b"".join(self.app(environ, keep))]
            time.sleep(fault["delayMs"] / 1000)
            start_response(captured["status"], captured["headers"])
            return out
        if fault["after"]:
            for _ in self.app(environ, lambda *a, **k: None):
                pass
        time.sleep(fault["delayMs"] / 1000)
        code = fault["errorCode"]
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Response><Errors><Error><Code>{code}</Code><Message>injected by the fluxburst moto launcher"
            f"{' after the call took effect' if fault['after'] else ''}</Message></Error></Errors>"
            "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
        ).encode()
        reason = {400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error", 503: "Service Unavailable"}.get(fault["status"], "Error")
        start_response(f"{fault['status']} {reason}", [("Content-Type", "text/xml"), ("Content-Length", str(len(xml)))])
        return [xml]


class Server(ThreadedMotoServer):
    """ThreadedMotoServer with our middleware around moto's WSGI app."""

    def _server_entry(self) -> None:
        from werkzeug.serving import make_server

        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        app = Middleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    # 0 (the default): the kernel picks a free port as the server binds, and READY says which; a
    # port picked earlier and handed over could be taken by someone else in between.
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = Server("127.0.0.1", args.port, verbose=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print(f"READY {server._server.server_port}", flush=True)
    stop.wait()
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
