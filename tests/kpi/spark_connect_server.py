"""A Spark Connect server on the loopback address, for the Spark Connect test: a local Spark
session with Spark's Connect plugin (its jar ships with pyspark), serving until stdin closes.

    python tests/kpi/spark_connect_server.py PORT
"""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession


def main() -> None:
    port = sys.argv[1]
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    (
        SparkSession.builder.master("local[2]")
        .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
        .config("spark.connect.grpc.binding.address", "127.0.0.1")
        .config("spark.connect.grpc.binding.port", port)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
        .getOrCreate()
    )
    print("ready", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
