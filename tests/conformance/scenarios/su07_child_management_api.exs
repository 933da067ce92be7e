Code.require_file("../T.exs", __DIR__)
defmodule W do
  use GenServer
  def start_link(id), do: GenServer.start_link(__MODULE__, id)
  def init(id), do: (Process.flag(:trap_exit, true); T.out("start", id); {:ok, id})
  def handle_call(:id, _from, id), do: {:reply, id, id}
  def terminate(r, id), do: T.out("stop", {id, r})
end

defmodule H do
  def pids(sup), do: Map.new(Supervisor.which_children(sup), fn {id, pid, _, _} -> {id, pid} end)
  def changed(b, a), do: b |> Map.keys() |> Enum.filter(&(b[&1] != a[&1])) |> Enum.sort()
  def spec(id, opts \\ []), do: Supervisor.child_spec({W, id}, [id: id] ++ opts)
end

T.main(fn ->
  {:ok, sup} = Supervisor.start_link([H.spec(:a)], strategy: :one_for_one)
  {:ok, b} = Supervisor.start_child(sup, H.spec(:b))
  T.out("ids", Enum.map(Supervisor.which_children(sup), &elem(&1, 0)))
  T.out("dup", Supervisor.start_child(sup, H.spec(:b)) == {:error, {:already_started, b}})
  T.out("restart_running", Supervisor.restart_child(sup, :b))
  T.out("delete_running", Supervisor.delete_child(sup, :b))
  T.out("terminate", Supervisor.terminate_child(sup, :b))
  T.out("present", Supervisor.start_child(sup, H.spec(:b)))
  {:ok, b2} = Supervisor.restart_child(sup, :b)
  T.out("new_pid", b2 != b)
  T.out("terminate", Supervisor.terminate_child(sup, :b))
  T.out("delete", Supervisor.delete_child(sup, :b))
  T.out("terminate_missing", Supervisor.terminate_child(sup, :b))
  T.out("restart_missing", Supervisor.restart_child(sup, :b))
  T.out("delete_missing", Supervisor.delete_child(sup, :b))
end)
T.done()
