"""The two-account AWS world every end-to-end test and `make demo` start from, built with
boto3 against a running fidelity server:

  production account (123456789012): the function's IAM identity (user + access key, so
    signature checking can be switched on), the share CMK whose key policy grants the
    backup account, an RDS instance encrypted with aws/rds (no KmsKeyId) and its manual
    snapshot;
  backup account (210987654321): the role the function assumes (trusting only the
    function's principal, with an sts:ExternalId condition) and the backup KMS key.

build_world() returns a World with the ids/ARNs, boto3 clients per account and env(): the
configuration the bootstrap reads (names from DESIGN.md's configuration contract).
"""
import json
from dataclasses import dataclass, field

PROD_ACCOUNT = "123456789012"
BACKUP_ACCOUNT = "210987654321"
REGION = "us-east-1"


def _config():
    """Clients make one attempt: tests must see the errors the server (or an injection)
    returns, not botocore's retries of them."""
    from botocore.config import Config
    return Config(retries={"total_max_attempts": 1})


def admin_client(endpoint, service, account, region=REGION):
    """A boto3 client acting in `account` through moto's x-moto-account-id header: for
    setting the world up while signature checking is off (moto's default)."""
    import boto3
    c = boto3.client(service, endpoint_url=endpoint, region_name=region,
                     aws_access_key_id="AKIAFIDELITYADMIN000", aws_secret_access_key="admin",
                     config=_config())

    def add_account(request, **_):
        request.headers["x-moto-account-id"] = account

    c.meta.events.register("before-send", add_account)
    return c


def key_policy_for_backup(prod_account, backup_account):
    """The share CMK's key policy: the production account administers it; the backup
    account may use it to copy snapshots shared with it (USER_ShareSnapshot.md sample:
    use + grants for AWS resources only)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Id": "snapferry-share-key",
        "Statement": [
            {"Sid": "ProductionAccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{prod_account}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "BackupAccountUsesKey", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{backup_account}:root"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                        "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Resource": "*"},
            {"Sid": "BackupAccountGrantsForAwsResources", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{backup_account}:root"},
             "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
             "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
        ],
    })


@dataclass
class World:
    endpoint: str
    region: str
    prod_account: str
    backup_account: str
    db_id: str
    db_arn: str
    snapshot_id: str
    snapshot_arn: str
    rds_default_key_arn: str
    share_key_id: str
    share_key_arn: str
    backup_key_id: str
    backup_key_arn: str
    role_name: str
    role_arn: str
    external_id: str
    function_user: str
    function_user_arn: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    _clients: dict = field(default_factory=dict, repr=False)

    # clients -----------------------------------------------------------------------------
    def admin(self, service, account="prod"):
        """Setup client in 'prod', 'backup' or a 12-digit account (x-moto-account-id)."""
        acct = {"prod": self.prod_account, "backup": self.backup_account}.get(account,
                                                                              account)
        k = ("admin", service, acct)
        if k not in self._clients:
            self._clients[k] = admin_client(self.endpoint, service, acct, self.region)
        return self._clients[k]

    def prod(self, service):
        """A client with the function's own credentials (production account)."""
        import boto3
        k = ("prod", service)
        if k not in self._clients:
            self._clients[k] = boto3.client(
                service, endpoint_url=self.endpoint, region_name=self.region,
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key, config=_config())
        return self._clients[k]

    def backup(self, service, region=None):
        """A client in the backup account through the real path: AssumeRole on the backup
        role with the ExternalId, from the function's credentials."""
        import boto3
        region = region or self.region
        k = ("backup", service, region)
        if k not in self._clients:
            creds = self.prod("sts").assume_role(
                RoleArn=self.role_arn, RoleSessionName="snapferry-test",
                ExternalId=self.external_id)["Credentials"]
            self._clients[k] = boto3.client(
                service, endpoint_url=self.endpoint, region_name=region,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"], config=_config())
        return self._clients[k]

    # configuration -----------------------------------------------------------------------
    def env(self, **overrides):
        """Environment for the bootstrap (DESIGN.md configuration contract)."""
        env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "BACKUP_ACCOUNT_ID": self.backup_account,
            "BACKUP_ROLE_ARN": self.role_arn,
            "BACKUP_EXTERNAL_ID": self.external_id,
            "SHARE_KMS_KEY_ID": self.share_key_arn,
            "BACKUP_KMS_KEY_ID": self.backup_key_arn,
            "BACKUP_REGION": self.region,
        }
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    # more fixtures -----------------------------------------------------------------------
    def create_db(self, db_id, account="prod", encrypted=True, kms_key_id=None,
                  engine="postgres", tags=None, option_group=None, tde_credential_arn=None):
        """A DB instance; option_group: the name of an option group made with
        create_option_group(); tde_credential_arn: an Oracle/SQL Server instance with TDE
        whose key store is that ARN (the layer keeps it, never the password)."""
        rds = self.admin("rds", account)
        kw = dict(DBInstanceIdentifier=db_id, DBInstanceClass="db.t3.micro", Engine=engine,
                  AllocatedStorage=20, MasterUsername="snapadmin",
                  MasterUserPassword="not-a-secret-1", StorageEncrypted=encrypted,
                  Tags=tags or [])
        if kms_key_id:
            kw["KmsKeyId"] = kms_key_id
        if option_group:
            kw["OptionGroupName"] = option_group
        if tde_credential_arn:
            kw.update(TdeCredentialArn=tde_credential_arn,
                      TdeCredentialPassword="not-a-secret-tde-1")
        return rds.create_db_instance(**kw)["DBInstance"]

    def create_option_group(self, name, engine, major_version, options=(), account="prod"):
        """An option group with `options` (names, e.g. "TDE", "Timezone", "OEM"); the
        layer reports each option's Persistent/Permanent flags as AWS's
        DescribeOptionGroupOptions does for that engine (fidelity.patches.option_flags)."""
        rds = self.admin("rds", account)
        og = rds.create_option_group(OptionGroupName=name, EngineName=engine,
                                     MajorEngineVersion=major_version,
                                     OptionGroupDescription=f"{name} (test)")["OptionGroup"]
        if options:
            og = rds.modify_option_group(
                OptionGroupName=name, ApplyImmediately=True,
                OptionsToInclude=[{"OptionName": o} for o in options])["OptionGroup"]
        return og

    def create_snapshot(self, db_id, snapshot_id, account="prod"):
        return self.admin("rds", account).create_db_snapshot(
            DBInstanceIdentifier=db_id, DBSnapshotIdentifier=snapshot_id)["DBSnapshot"]

    def create_cluster(self, cluster_id, engine="aurora-postgresql", account="prod",
                       encrypted=True, kms_key_id=None, engine_version=None):
        """Aurora (aurora-mysql / aurora-postgresql) or a Multi-AZ DB cluster (mysql /
        postgres, which needs an instance class, storage and IOPS)."""
        rds = self.admin("rds", account)
        kw = dict(DBClusterIdentifier=cluster_id, Engine=engine, MasterUsername="snapadmin",
                  MasterUserPassword="not-a-secret-1", StorageEncrypted=encrypted)
        if engine in ("mysql", "postgres"):
            kw.update(DBClusterInstanceClass="db.m5d.large", AllocatedStorage=100,
                      StorageType="io1", Iops=1000)
        if kms_key_id:
            kw["KmsKeyId"] = kms_key_id
        if engine_version:
            kw["EngineVersion"] = engine_version
        return rds.create_db_cluster(**kw)["DBCluster"]

    def create_cluster_snapshot(self, cluster_id, snapshot_id, account="prod"):
        return self.admin("rds", account).create_db_cluster_snapshot(
            DBClusterIdentifier=cluster_id,
            DBClusterSnapshotIdentifier=snapshot_id)["DBClusterSnapshot"]

    def create_key(self, account="prod", description="test key", policy=None):
        kw = {"Description": description}
        if policy:
            kw["Policy"] = policy
        return self.admin("kms", account).create_key(**kw)["KeyMetadata"]


def build_world(endpoint, region=REGION, prod_account=PROD_ACCOUNT,
                backup_account=BACKUP_ACCOUNT, db_id="proddb",
                snapshot_id="proddb-manual-1", role_name="snapferry-backup",
                external_id="snapferry-ext-7f3a", function_user="snapferry-function",
                trust_principal=None):
    """Create the two-account world (see the module doc) and return it."""
    iam_p = admin_client(endpoint, "iam", prod_account, region)
    iam_b = admin_client(endpoint, "iam", backup_account, region)
    kms_p = admin_client(endpoint, "kms", prod_account, region)
    kms_b = admin_client(endpoint, "kms", backup_account, region)
    rds_p = admin_client(endpoint, "rds", prod_account, region)

    # The function's identity in production, with what the flow needs (least privilege is
    # the templates' concern; here it only has to exist for signature checking).
    user_arn = iam_p.create_user(UserName=function_user)["User"]["Arn"]
    role_arn = f"arn:aws:iam::{backup_account}:role/{role_name}"
    iam_p.put_user_policy(UserName=function_user, PolicyName="snapferry", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["rds:*", "kms:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn},
        ]}))
    key = iam_p.create_access_key(UserName=function_user)["AccessKey"]

    # The backup role: trusts only the function's principal, with the ExternalId.
    trust = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": trust_principal or user_arn},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }]}
    iam_b.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
    iam_b.put_role_policy(RoleName=role_name, PolicyName="snapferry-backup",
                          PolicyDocument=json.dumps({
                              "Version": "2012-10-17",
                              "Statement": [{"Effect": "Allow",
                                             "Action": ["rds:*", "kms:*"],
                                             "Resource": "*"}]}))

    share = kms_p.create_key(Description="snapferry share key",
                             Policy=key_policy_for_backup(prod_account, backup_account)
                             )["KeyMetadata"]
    kms_p.create_alias(AliasName="alias/snapferry-share", TargetKeyId=share["KeyId"])
    backup_key = kms_b.create_key(Description="snapferry backup key")["KeyMetadata"]
    kms_b.create_alias(AliasName="alias/snapferry-backup", TargetKeyId=backup_key["KeyId"])

    db = rds_p.create_db_instance(
        DBInstanceIdentifier=db_id, DBInstanceClass="db.t3.micro", Engine="postgres",
        AllocatedStorage=20, MasterUsername="snapadmin", MasterUserPassword="not-a-secret-1",
        StorageEncrypted=True, Tags=[{"Key": "env", "Value": "production"}])["DBInstance"]
    snap = rds_p.create_db_snapshot(DBInstanceIdentifier=db_id,
                                    DBSnapshotIdentifier=snapshot_id)["DBSnapshot"]

    return World(
        endpoint=endpoint, region=region, prod_account=prod_account,
        backup_account=backup_account, db_id=db_id, db_arn=db["DBInstanceArn"],
        snapshot_id=snap["DBSnapshotIdentifier"], snapshot_arn=snap["DBSnapshotArn"],
        rds_default_key_arn=db["KmsKeyId"],
        share_key_id=share["KeyId"], share_key_arn=share["Arn"],
        backup_key_id=backup_key["KeyId"], backup_key_arn=backup_key["Arn"],
        role_name=role_name, role_arn=role_arn, external_id=external_id,
        function_user=function_user, function_user_arn=user_arn,
        access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])
