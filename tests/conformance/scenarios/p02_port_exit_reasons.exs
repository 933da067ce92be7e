Code.require_file("../T.exs", __DIR__)
cat = System.find_executable("cat")
sh = System.find_executable("sh")

T.run(fn ->
  Process.flag(:trap_exit, true)
  me = self()
  open = fn -> Port.open({:spawn_executable, cat}, [:binary]) end
  two = fn -> for _ <- 1..2, do: receive(do: (m -> T.out("msg", m))) end

  # A command too long for its 1-byte header.
  p = Port.open({:spawn_executable, cat}, [:binary, {:packet, 1}])
  :erlang.monitor(:port, p)
  T.out("command", Port.command(p, :binary.copy("a", 256)))
  two.()

  # Exit signals, normal included.
  for reason <- [:bye, :kill, :normal] do
    p = open.()
    :erlang.monitor(:port, p)
    T.out("exit", Process.exit(p, reason))
    two.()
  end

  # Port.close, then a closed port.
  p = open.()
  :erlang.monitor(:port, p)
  T.out("close", Port.close(p))
  two.()
  T.out("info", Port.info(p))
  :erlang.monitor(:port, p)
  receive do: (m -> T.out("msg", m))
  T.out("link", Process.link(p))
  receive do: (m -> T.out("msg", m))

  # The owner's exit.
  owner = spawn(fn ->
    q = open.()
    send(me, {:port, q})
    receive do: (:go -> exit(:boom))
  end)
  q = receive do: ({:port, q} -> q)
  :erlang.monitor(:port, q)
  send(owner, :go)
  receive do: (m -> T.out("msg", m))

  # A port message from another process.
  p = open.()
  spawn(fn -> send(p, {self(), {:command, "hey"}}) end)
  receive do: (m -> T.out("msg", m))

  # Writing to a program that closed its input.
  p = Port.open({:spawn_executable, sh}, [:binary, args: ["-c", "exec 0<&-; echo closed; sleep 30"]])
  receive do: (m -> T.out("msg", m))
  Port.command(p, "x")
  receive do: (m -> T.out("msg", m))
end)

T.done()
