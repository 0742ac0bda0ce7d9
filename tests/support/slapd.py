"""A real OpenLDAP server (Debian's slapd) for the directory tests: a temporary slapd.conf with an mdb database on a
free loopback port, seeded with ``ldapadd``. Users may bind to their own entry; only the reader account (the
service bind) may search."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import time
from pathlib import Path

from support.server import free_port

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-secret"
READER_DN = f"cn=reader,{SUFFIX}"
READER_PASSWORD = "reader-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"


def missing() -> str | None:
    """Why the directory tests cannot run here, or None."""
    if importlib.util.find_spec("ldap") is None:
        return "python-ldap is not installed (make test installs the ldap extra when libldap2-dev builds it)"
    if not Path(SLAPD).exists() or not shutil.which("ldapadd"):
        return f"{SLAPD} or ldapadd is missing (apt-get install slapd ldap-utils)"
    return None


class Slapd:
    def __init__(self, workdir: Path, hidden: tuple[str, ...] = ()):
        """``hidden``: attributes nobody may read (``entryUUID``: a directory whose entries have no id of that name,
        as Active Directory's)."""
        self.workdir = workdir
        self.hidden = hidden
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Slapd":
        data = self.workdir / "data"
        data.mkdir(parents=True)
        conf = self.workdir / "slapd.conf"
        conf.write_text("\n".join([
            *(f"include /etc/ldap/schema/{name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")),
            "modulepath /usr/lib/ldap", "moduleload back_mdb",
            f"pidfile {self.workdir}/slapd.pid",
            "database mdb", f'suffix "{SUFFIX}"', f'rootdn "{ROOT_DN}"', f"rootpw {ROOT_PASSWORD}",
            f"directory {data}", "maxsize 10485760",
            "access to attrs=userPassword by self write by anonymous auth by * none",
            *(f"access to attrs={name} by * none" for name in self.hidden),
            f'access to * by dn.exact="{READER_DN}" read by self read by * none', ""]))
        self.log = open(self.workdir / "slapd.log", "wb")
        self.process = subprocess.Popen([SLAPD, "-f", str(conf), "-h", self.url + "/", "-d", "0"],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            probe = subprocess.run(["ldapwhoami", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD],
                                   capture_output=True)
            if probe.returncode == 0:
                break
            if self.process.poll() is not None:
                raise RuntimeError("slapd stopped: " + (self.workdir / "slapd.log").read_text()[-2000:])
            time.sleep(0.1)
        else:
            raise RuntimeError("slapd did not answer in 15 s")
        self.add(f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: {READER_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: {READER_PASSWORD}

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups
""")
        return self

    def add(self, ldif: str) -> None:
        done = subprocess.run(["ldapadd", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD],
                              input=ldif.encode(), capture_output=True)
        assert done.returncode == 0, done.stderr.decode()

    def modify(self, ldif: str) -> None:
        done = subprocess.run(["ldapmodify", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD],
                              input=ldif.encode(), capture_output=True)
        assert done.returncode == 0, done.stderr.decode()

    def add_user(self, uid: str, password: str, mail: str, given: str = "Ada", family: str = "Lovelace") -> str:
        dn = f"uid={uid},{PEOPLE}"
        self.add(f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {given} {family}\ngivenName: {given}\n"
                 f"sn: {family}\nmail: {mail}\nuserPassword: {password}\n")
        return dn

    def add_group(self, cn: str, *members: str) -> None:
        self.add(f"dn: cn={cn},{GROUPS}\nobjectClass: groupOfNames\ncn: {cn}\n"
                 + "".join(f"member: {dn}\n" for dn in members))

    def remove_member(self, cn: str, dn: str) -> None:
        self.modify(f"dn: cn={cn},{GROUPS}\nchangetype: modify\ndelete: member\nmember: {dn}\n")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
