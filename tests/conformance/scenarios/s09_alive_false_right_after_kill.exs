Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  results = for _ <- 1..50 do
    pid = spawn(&T.wait_forever/0)
    Process.exit(pid, :kill)
    Process.alive?(pid)
  end
  T.out("any_alive", Enum.any?(results))
end)
T.done()
